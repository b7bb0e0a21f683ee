/** The whole path on the shared mini archive (1,000 records per file): extract, parse, preprocess, batch. */
import { open } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  type Cifar10,
  CIFAR10_CLASS_NAMES,
  DataSet,
  extractCifar10Archive,
  loadCifar10,
  readCifar10Archive,
  readCifar10Folder,
  TEST_FILE,
  TRAIN_FILES,
} from "../src/mod.ts";
import { FULL_FOLDER, HAS_FULL, HAS_MINI, MINI_ARCHIVE, sameBytes, skipNotice, tempDir } from "./helpers.ts";

describe.skipIf(skipNotice(HAS_MINI, "the mini-archive tests", MINI_ARCHIVE))("the mini archive", () => {
  let cifar: Cifar10;
  beforeAll(async () => {
    cifar = await loadCifar10({ dataDir: MINI_ARCHIVE, env: {}, download: false, validationSize: 1000 });
  });

  test("loads 5,000 training and 1,000 test images with every class present", () => {
    expect(cifar.location).toEqual({ kind: "archive", path: MINI_ARCHIVE, origin: "dataDir" });
    expect(cifar.classNames).toEqual(CIFAR10_CLASS_NAMES);
    expect(cifar.train.numExamples + cifar.validation.numExamples).toBe(5000);
    expect(cifar.validation.numExamples).toBe(1000);
    expect(cifar.test.numExamples).toBe(1000);
    const train = cifar.train.labelCounts().map((n, c) => n + cifar.validation.labelCounts()[c]);
    expect(train.reduce((a, b) => a + b)).toBe(5000);
    // The files were shuffled before being cut, so each class is near 500 / 100.
    for (const n of train) expect(n).toBeGreaterThan(400), expect(n).toBeLessThan(600);
    for (const n of cifar.test.labelCounts()) expect(n).toBeGreaterThan(70), expect(n).toBeLessThan(130);
  });

  test("batches are float32 NCHW minus the mean image of the 5,000 training images", () => {
    const batch = cifar.train.nextBatch(200);
    expect(batch.images.shape).toEqual([200, 3, 32, 32]);
    expect(batch.images.dtype).toBe("float32");
    expect(batch.labels.shape).toEqual([200]);
    expect(batch.labels.dtype).toBe("int32");
    expect(batch.labelsOneHot.shape).toEqual([200, 10]);
    batch.dispose();
    // Validation examples come first in the files: train example 0 is file record 1000.
    const raw = cifar.train.image(0);
    for (const p of [0, 1023, 1024, 3071]) {
      expect(batch.imagesF32[p]).toBe(Math.fround(raw[p] - cifar.meanImage[p]));
    }
    // Averaged over all training images (validation included) every pixel is ~0.
    const sums = new Float64Array(3072);
    for (const split of [cifar.validation, cifar.train]) {
      for (const b of split.batches(500)) for (let k = 0; k < b.imagesF32.length; k++) sums[k % 3072] += b.imagesF32[k];
    }
    expect(Math.max(...sums.map((s) => Math.abs(s / 5000)))).toBeLessThan(1e-3);
    // The mean image is plausible: channel averages near the full set's 125 / 123 / 114.
    const channel = (c: number) => cifar.meanImage.subarray(c * 1024, (c + 1) * 1024).reduce((a, b) => a + b) / 1024;
    expect(Math.abs(channel(0) - 125.3)).toBeLessThan(3);
    expect(Math.abs(channel(2) - 113.9)).toBeLessThan(3);
  });

  test("nextBatch: one epoch in file order, then a reshuffled permutation", () => {
    const train = new DataSet(cifar.train.rawImages, cifar.train.rawLabels, { seed: 7, transform: cifar.transform });
    const seen: number[] = [];
    for (let i = 0; i < 20; i++) seen.push(...train.nextBatch(200).indices);
    expect(seen).toEqual(Array.from({ length: 4000 }, (_, i) => i));
    expect(train.epochsCompleted).toBe(0);
    const second: number[] = [];
    for (let i = 0; i < 13; i++) second.push(...train.nextBatch(300).indices); // 3,900: tail of 100 dropped
    expect(train.epochsCompleted).toBe(1);
    expect(new Set(second).size).toBe(3900);
    expect(second.slice(0, 10)).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    train.nextBatch(300);
    expect(train.epochsCompleted).toBe(2);
  });

  describe("extraction", () => {
    let out: string;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      const temp = await tempDir();
      out = join(temp.path, "cifar-10-batches-bin");
      cleanup = temp.cleanup;
      await extractCifar10Archive(MINI_ARCHIVE, out);
    });
    afterAll(() => cleanup());

    test("unpacking and reading the folder gives what reading the archive in memory gives", async () => {
      const [fromFolder, fromArchive] = await Promise.all([readCifar10Folder(out), readCifar10Archive(MINI_ARCHIVE)]);
      expect(fromFolder.train.count).toBe(5000);
      expect(sameBytes(fromFolder.train.images, fromArchive.train.images)).toBe(true);
      expect(sameBytes(fromFolder.test.labels, fromArchive.test.labels)).toBe(true);
      expect(fromFolder.classNames).toEqual(CIFAR10_CLASS_NAMES);
    });

    test.skipIf(skipNotice(HAS_FULL, "the mini-vs-full comparison", FULL_FOLDER))(
      "each unpacked file is the first 1,000 records of the full file",
      async () => {
        for (const name of [...TRAIN_FILES, TEST_FILE]) {
          const mini = await open(join(out, name));
          const full = await open(join(FULL_FOLDER, name));
          const a = new Uint8Array(3_073_000), b = new Uint8Array(3_073_000);
          await mini.read(a, 0, a.length, 0);
          await full.read(b, 0, b.length, 0);
          await mini.close();
          await full.close();
          expect(sameBytes(a, b)).toBe(true);
        }
      },
    );
  });
});

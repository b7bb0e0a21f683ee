import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import {
  DatasetError,
  extractCifar10Archive,
  parseBatch,
  readCifar10Archive,
  readCifar10Folder,
  TRAIN_FILES,
} from "../src/mod.ts";
import { cyclicLabels, fabricatedFiles, gzip, makeRecords, makeTar, sameBytes, tempDir } from "./helpers.ts";

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ path: dir, cleanup } = await tempDir());
});
afterEach(() => cleanup());

async function writeFolder(files: Record<string, Uint8Array | string>, folder = join(dir, "cifar-10-batches-bin")) {
  await mkdir(folder, { recursive: true });
  for (const [name, data] of Object.entries(files)) await writeFile(join(folder, name), data);
  return folder;
}

function archiveOf(files: Record<string, Uint8Array | string>, prefix = "cifar-10-batches-bin/"): Uint8Array {
  return gzip(makeTar([
    { name: prefix, type: "5" },
    ...Object.entries(files).map(([name, data]) => ({ name: prefix + name, data })),
  ]));
}

async function expectDatasetError(promise: Promise<unknown>, pattern: RegExp): Promise<DatasetError> {
  const error = await promise.then(() => undefined, (e) => e);
  expect(error).toBeInstanceOf(DatasetError);
  expect(error.message).toMatch(pattern);
  return error;
}

describe("parseBatch", () => {
  test("splits records into CHW images and labels", () => {
    const parsed = parseBatch(makeRecords([3, 9, 0]), "x.bin");
    expect(parsed.count).toBe(3);
    expect([...parsed.labels]).toEqual([3, 9, 0]);
    expect(parsed.images.length).toBe(3 * 3072);
    expect(parsed.images[3072 + 1024]).toBe((7 + 50 + 1024) % 256); // record 1, green plane, first pixel
  });

  test("a size that is not a whole number of records names the file and the counts", () => {
    const bytes = makeRecords([1, 2]).subarray(0, 3073 + 100);
    const error = (() => {
      try {
        parseBatch(bytes, "data_batch_2.bin");
      } catch (e) {
        return e as DatasetError;
      }
    })()!;
    expect(error).toBeInstanceOf(DatasetError);
    expect(error.file).toBe("data_batch_2.bin");
    expect(error.message).toMatch(/data_batch_2\.bin: size 3173 bytes .* 3073-byte record size \(1 whole records and 100 bytes over\)/);
    expect(() => parseBatch(new Uint8Array(0), "empty.bin")).toThrow(/file is empty/);
  });

  test("a label outside 0–9 names the file, the record and the label", () => {
    let error: DatasetError | undefined;
    try {
      parseBatch(makeRecords([1, 2, 10, 3]), "test_batch.bin");
    } catch (e) {
      error = e as DatasetError;
    }
    expect(error).toBeInstanceOf(DatasetError);
    expect(error!.record).toBe(2);
    expect(error!.message).toMatch(/test_batch\.bin: record 2 \(byte offset 6146\) has label 10, expected 0–9/);
  });
});

describe("readCifar10Folder", () => {
  test("reads all six files in order, with the class names from batches.meta.txt", async () => {
    const files = fabricatedFiles(20);
    const folder = await writeFolder({ ...files, "batches.meta.txt": "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n" });
    const raw = await readCifar10Folder(folder);
    expect(raw.train.count).toBe(100);
    expect(raw.test.count).toBe(20);
    expect([...raw.train.labels.subarray(0, 3)]).toEqual([1, 2, 3]);
    expect([...raw.train.labels.subarray(20, 23)]).toEqual([2, 3, 4]); // data_batch_2 follows data_batch_1
    const second = parseBatch(files["data_batch_2.bin"], "").images.subarray(0, 3072);
    expect(sameBytes(raw.train.images.subarray(20 * 3072, 21 * 3072), second)).toBe(true);
    expect(raw.classNames).toEqual(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]);
  });

  test("missing files are all named", async () => {
    const files = fabricatedFiles(5);
    delete files["data_batch_3.bin"];
    delete files["test_batch.bin"];
    const folder = await writeFolder(files);
    const error = await expectDatasetError(readCifar10Folder(folder), /missing data_batch_3\.bin, test_batch\.bin/);
    expect(error.file).toBe(join(folder, "data_batch_3.bin"));
  });

  test("a truncated file is named before anything is read", async () => {
    const files = fabricatedFiles(5);
    files["data_batch_4.bin"] = files["data_batch_4.bin"].subarray(0, 3073 * 3 + 1000);
    const folder = await writeFolder(files);
    const error = await expectDatasetError(
      readCifar10Folder(folder),
      /data_batch_4\.bin: size 10219 bytes is not a positive multiple of the 3073-byte record size \(3 whole records and 1000 bytes over\) — the file is truncated/,
    );
    expect(error.file).toBe(join(folder, "data_batch_4.bin"));
    expect(error.record).toBe(3);
  });

  test("a corrupt label names file and record", async () => {
    const files = fabricatedFiles(5);
    files["data_batch_5.bin"][3073 * 4] = 200;
    const folder = await writeFolder(files);
    const error = await expectDatasetError(readCifar10Folder(folder), /data_batch_5\.bin: record 4 .* label 200, expected 0–9/);
    expect(error.record).toBe(4);
  });

  test("an empty file and a malformed batches.meta.txt are errors", async () => {
    const folder = await writeFolder({ ...fabricatedFiles(2), "test_batch.bin": new Uint8Array(0) });
    await expectDatasetError(readCifar10Folder(folder), /test_batch\.bin: size 0 bytes .*empty/);
    await writeFolder({ ...fabricatedFiles(2), "batches.meta.txt": "cat\ndog\n" });
    await expectDatasetError(readCifar10Folder(folder), /batches\.meta\.txt: expected 10 class names, one per line, found 2/);
  });
});

describe("readCifar10Archive and extractCifar10Archive", () => {
  test("read a .tar.gz in memory and unpack it to the same bytes", async () => {
    const files = fabricatedFiles(10);
    const archive = join(dir, "cifar.tar.gz");
    await writeFile(archive, archiveOf(files));
    const raw = await readCifar10Archive(archive);
    expect(raw.train.count).toBe(50);
    expect(raw.test.count).toBe(10);
    expect([...raw.test.labels]).toEqual(cyclicLabels(10));

    const out = join(dir, "out");
    await extractCifar10Archive(archive, out);
    expect((await readdir(dir)).sort()).toEqual(["cifar.tar.gz", "out"]);
    await expectDatasetError(extractCifar10Archive(archive, out), /out: cannot move the unpacked files into place/);
    for (const [name, data] of Object.entries(files)) {
      expect(sameBytes(await readFile(join(out, name)), data)).toBe(true);
    }
    const fromFolder = await readCifar10Folder(out);
    expect(sameBytes(fromFolder.train.images, raw.train.images)).toBe(true);
  });

  test("an uncompressed tar and a flat layout work too", async () => {
    const archive = join(dir, "cifar.tar");
    await writeFile(archive, makeTar(Object.entries(fabricatedFiles(3)).map(([name, data]) => ({ name, data }))));
    expect((await readCifar10Archive(archive)).train.count).toBe(15);
  });

  test("a missing member is named", async () => {
    const files = fabricatedFiles(3);
    delete files["data_batch_2.bin"];
    const archive = join(dir, "cifar.tar.gz");
    await writeFile(archive, archiveOf(files));
    await expectDatasetError(readCifar10Archive(archive), /cifar\.tar\.gz: missing data_batch_2\.bin/);
    await expectDatasetError(extractCifar10Archive(archive, join(dir, "out")), /missing data_batch_2\.bin/);
    // All or nothing: no output folder, no temporary leftovers.
    expect(await readdir(dir)).toEqual(["cifar.tar.gz"]);
  });

  test("a member of the wrong size is named with the archive", async () => {
    const files = fabricatedFiles(3);
    files["test_batch.bin"] = files["test_batch.bin"].subarray(0, 3000);
    const archive = join(dir, "cifar.tar.gz");
    await writeFile(archive, archiveOf(files));
    const error = await expectDatasetError(
      readCifar10Archive(archive),
      /cifar-10-batches-bin\/test_batch\.bin in .*cifar\.tar\.gz: size 3000 bytes/,
    );
    expect(error.file).toMatch(/test_batch\.bin in /);
  });

  test("a truncated .tar.gz is reported as truncated gzip data", async () => {
    const whole = archiveOf(fabricatedFiles(10));
    const archive = join(dir, "cut.tar.gz");
    await writeFile(archive, whole.subarray(0, Math.floor(whole.length / 2)));
    const error = await expectDatasetError(readCifar10Archive(archive), /cut\.tar\.gz: the gzip data is corrupt or truncated/);
    expect(error.file).toBe(archive);
  });

  test("a corrupt .tar.gz is reported as corrupt", async () => {
    const bytes = archiveOf(fabricatedFiles(10));
    bytes[bytes.length - 6] ^= 0xff; // inside the CRC32 trailer
    const archive = join(dir, "bad.tar.gz");
    await writeFile(archive, bytes);
    await expectDatasetError(readCifar10Archive(archive), /bad\.tar\.gz: the gzip data is corrupt or truncated/);
  });

  test("a file that is neither gzip nor tar, and a missing file, are errors", async () => {
    const archive = join(dir, "notes.txt");
    await writeFile(archive, "just some text\n".repeat(100));
    await expectDatasetError(readCifar10Archive(archive), /notes\.txt: header at byte 0 .* not a tar file/);
    await rm(archive);
    await expectDatasetError(readCifar10Archive(archive), /notes\.txt: cannot open/);
  });

  test("only known files are unpacked, so member paths cannot escape the folder", async () => {
    const files = fabricatedFiles(2);
    const bytes = gzip(makeTar([
      { name: "../../evil.txt", data: "nope" },
      ...Object.entries(files).map(([name, data]) => ({ name: `../x/${name}`, data })),
    ]));
    const archive = join(dir, "odd.tar.gz");
    await writeFile(archive, bytes);
    const out = join(dir, "nested", "out");
    await extractCifar10Archive(archive, out);
    expect((await readdir(out)).sort()).toEqual([...TRAIN_FILES, "test_batch.bin"].sort());
    expect((await readdir(dir)).sort()).toEqual(["nested", "odd.tar.gz"]);
  });
});

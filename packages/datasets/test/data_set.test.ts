import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ValueError } from "@backprop/tensor";
import { type Cifar10Raw, DataSet, parseBatch, preprocessCifar10, Xoshiro128 } from "../src/mod.ts";
import { cyclicLabels, makeRecords, sameBytes } from "./helpers.ts";

/** n examples whose every pixel equals the example's index, labels cycling 0–9. */
function indexed(n: number, options: ConstructorParameters<typeof DataSet>[2] = {}): DataSet {
  const parsed = parseBatch(makeRecords(cyclicLabels(n), (r) => r), "fabricated");
  return new DataSet(parsed.images, parsed.labels, options);
}

/** Which examples a batch holds, read back from the pixel values. */
const examples = (batch: { imagesF32: Float32Array; size: number }) =>
  Array.from({ length: batch.size }, (_, b) => batch.imagesF32[b * 3072]);

/** The course's next_batch, written plainly, driving the same generator. */
function courseModel(n: number, seed: number) {
  const order = Array.from({ length: n }, (_, i) => i);
  const generator = new Xoshiro128(seed, 0);
  let index = 0;
  let epochs = 0;
  return (batchSize: number) => {
    let start = index;
    index += batchSize;
    if (index > n) {
      epochs++;
      generator.shuffle(order);
      start = 0;
      index = batchSize;
    }
    return { indices: order.slice(start, index), epochs };
  };
}

describe("DataSet.nextBatch", () => {
  test("the first epoch is in file order; past the end it reshuffles, restarts at 0 and drops the tail", () => {
    const data = indexed(10);
    expect(examples(data.nextBatch(3))).toEqual([0, 1, 2]);
    expect(examples(data.nextBatch(3))).toEqual([3, 4, 5]);
    expect(examples(data.nextBatch(3))).toEqual([6, 7, 8]);
    expect(data.epochsCompleted).toBe(0);
    const next = data.nextBatch(3); // 9 + 3 > 10: example 9 is dropped this epoch
    expect(data.epochsCompleted).toBe(1);
    expect(data.indexInEpoch).toBe(3);
    const order = data.getState().order!;
    expect(examples(next)).toEqual(order.slice(0, 3));
    expect(order).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...order].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test("a batch that ends exactly at the end does not reshuffle yet", () => {
    const data = indexed(6);
    data.nextBatch(3);
    data.nextBatch(3);
    expect(data.epochsCompleted).toBe(0);
    data.nextBatch(3);
    expect(data.epochsCompleted).toBe(1);
  });

  test("agrees with the course's algorithm for any sequence of batch sizes", () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 40 }),
      fc.integer(),
      fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 30 }),
      (n, seed, sizes) => {
        const data = indexed(n, { seed });
        const model = courseModel(n, seed);
        for (const size of sizes.map((s) => Math.min(s, n))) {
          const expected = model(size);
          const batch = data.nextBatch(size);
          expect([...batch.indices]).toEqual(expected.indices);
          expect(examples(batch)).toEqual(expected.indices);
          expect(data.epochsCompleted).toBe(expected.epochs);
        }
      },
    ), { numRuns: 60 });
  });

  test("the same seed gives the same batches; another seed other batches", () => {
    const run = (seed: number) => {
      const data = indexed(50, { seed });
      return Array.from({ length: 12 }, () => examples(data.nextBatch(7)));
    };
    expect(run(1)).toEqual(run(1));
    expect(run(1)).not.toEqual(run(2));
  });

  test("rejects batch sizes it cannot serve", () => {
    const data = indexed(5);
    expect(() => data.nextBatch(0)).toThrow(ValueError);
    expect(() => data.nextBatch(6)).toThrow(/batchSize must be an integer in \[1, 5\]/);
    expect(() => data.nextBatch(2.5)).toThrow(ValueError);
    expect(() => new DataSet(new Uint8Array(0), new Uint8Array(0)).nextBatch(1)).toThrow(ValueError);
  });
});

describe("DataSet state", () => {
  test("getState/setState (through JSON) resume batches and augmentation exactly", () => {
    const options = { seed: 9, augment: { crop: true, flip: true } };
    const original = indexed(23, options);
    for (let i = 0; i < 9; i++) original.nextBatch(5);
    const saved = JSON.parse(JSON.stringify(original.getState()));
    const expected = Array.from({ length: 10 }, () => original.nextBatch(5));

    const resumed = indexed(23, options);
    resumed.setState(saved);
    expect(resumed.epochsCompleted).toBe(saved.epochsCompleted);
    for (const batch of expected) {
      const again = resumed.nextBatch(5);
      expect([...again.indices]).toEqual([...batch.indices]);
      expect(sameBytes(again.imagesF32, batch.imagesF32)).toBe(true);
    }
  });

  test("setState rejects a state for other data or a corrupt one", () => {
    const data = indexed(4);
    const state = data.getState();
    expect(() => indexed(5).setState(state)).toThrow(/state is for 4 examples, this DataSet has 5/);
    expect(() => data.setState({ ...state, order: [0, 0, 1, 2] })).toThrow(/not a permutation/);
    expect(() => data.setState({ ...state, indexInEpoch: 9 })).toThrow(/indexInEpoch/);
    expect(() => data.setState({ ...state, shuffleGenerator: [0, 0, 0, 0] })).toThrow(/all zero/);
  });
});

describe("DataSet evaluation and access", () => {
  test("batches() walks the set in file order without touching nextBatch", () => {
    const data = indexed(10);
    data.nextBatch(4);
    expect([...data.batches(4)].map(examples)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    expect([...data.batches(4, { dropLast: true })].map((b) => b.size)).toEqual([4, 4]);
    expect(data.indexInEpoch).toBe(4);
    expect(examples(data.nextBatch(2))).toEqual([4, 5]);
    expect(data.all().size).toBe(10);
  });

  test("raw images, labels and counts", () => {
    const data = indexed(25);
    expect(data.image(3).length).toBe(3072);
    expect(data.image(3).every((v) => v === 3)).toBe(true);
    expect(data.label(13)).toBe(3);
    expect(data.labelCounts()).toEqual([3, 3, 3, 3, 3, 2, 2, 2, 2, 2]);
    expect(data.classNames[0]).toBe("airplane");
    const records = makeRecords([0], (_, p) => Math.floor(p / 1024) * 10 + (p % 2)); // R 0/1, G 10/11, B 20/21
    const parsed = parseBatch(records, "x");
    const hwc = new DataSet(parsed.images, parsed.labels).imageHWC(0);
    expect([...hwc.subarray(0, 6)]).toEqual([0, 10, 20, 1, 11, 21]);
    expect(() => data.image(25)).toThrow(ValueError);
    expect(data.gather([4, 2]).labelsI32).toEqual(Int32Array.from([4, 2]));
  });

  test("labels come as int32 indices and float32 one-hot; tensors have the right shapes", async () => {
    const batch = indexed(12).nextBatch(4);
    expect(batch.labelsI32).toEqual(Int32Array.from([0, 1, 2, 3]));
    expect(batch.labelsOneHotF32.length).toBe(40);
    expect([...batch.labelsOneHotF32.subarray(20, 30)]).toEqual([0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    const { images, labels, labelsOneHot } = batch;
    expect(images.shape).toEqual([4, 3, 32, 32]);
    expect(images.dtype).toBe("float32");
    expect(labels.shape).toEqual([4]);
    expect(labels.dtype).toBe("int32");
    expect(labelsOneHot.shape).toEqual([4, 10]);
    expect(labelsOneHot.dtype).toBe("float32");
    expect(await labels.data()).toEqual(Int32Array.from([0, 1, 2, 3]));
    expect(images.dataSync()).toEqual(batch.imagesF32);
    batch.dispose();
  });
});

describe("augmentation", () => {
  /** One image whose pixel (c, y, x) is 1 + x + 32·y (c ignored), so a crop/flip can be read back. */
  function coordinateImage(): DataSet {
    const parsed = parseBatch(makeRecords([0], (_, p) => 1 + (p % 1024) % 255), "x");
    return new DataSet(parsed.images, parsed.labels, {
      augment: { crop: { padding: 4 }, flip: true },
      seed: 3,
    });
  }

  test("every augmented image is a shifted (and maybe mirrored) copy padded with zeros", () => {
    const data = coordinateImage();
    const source = data.image(0);
    const seen = new Set<string>();
    for (let trial = 0; trial < 300; trial++) {
      const out = data.nextBatch(1).imagesF32;
      let match: string | undefined;
      for (let dy = -4; dy <= 4 && !match; dy++) {
        for (let dx = -4; dx <= 4 && !match; dx++) {
          for (const flip of [false, true]) {
            let ok = true;
            for (let c = 0; c < 3 && ok; c++) {
              for (let y = 0; y < 32 && ok; y++) {
                for (let x = 0; x < 32 && ok; x++) {
                  const sy = y + dy, sx = (flip ? 31 - x : x) + dx;
                  const want = sy < 0 || sy > 31 || sx < 0 || sx > 31 ? 0 : source[c * 1024 + sy * 32 + sx];
                  ok = out[c * 1024 + y * 32 + x] === want;
                }
              }
            }
            if (ok) {
              match = `${dy},${dx},${flip}`;
              break;
            }
          }
        }
      }
      expect(match).toBeDefined();
      seen.add(match!);
    }
    // 300 draws from 162 outcomes cover a good part of them, both flips and the extreme shifts.
    expect(seen.size).toBeGreaterThan(100);
    const keys = [...seen];
    expect(keys.some((k) => k.endsWith("true")) && keys.some((k) => k.endsWith("false"))).toBe(true);
    expect(keys.some((k) => k.startsWith("-4,")) && keys.some((k) => k.startsWith("4,"))).toBe(true);
  });

  test("is seeded, only in nextBatch, and off by default", () => {
    const a = coordinateImage(), b = coordinateImage();
    for (let i = 0; i < 5; i++) expect(a.nextBatch(1).imagesF32).toEqual(b.nextBatch(1).imagesF32);
    const plain = Float32Array.from(a.image(0));
    expect([...a.batches(1)][0].imagesF32).toEqual(plain);
    expect(a.gather([0]).imagesF32).toEqual(plain);
    expect(indexed(3).nextBatch(1).imagesF32.every((v) => v === 0)).toBe(true);
    expect(() => new DataSet(a.rawImages, a.rawLabels, { augment: { crop: { padding: 40 } } })).toThrow(ValueError);
  });
});

describe("preprocessCifar10", () => {
  function fabricatedRaw(trainCount: number, testCount: number): Cifar10Raw {
    const random = new Xoshiro128(5);
    const pixels = (n: number) => makeRecords(cyclicLabels(n), () => random.nextBelow(256));
    return {
      train: parseBatch(pixels(trainCount), "train"),
      test: parseBatch(pixels(testCount), "test"),
      classNames: ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"],
    };
  }
  const location = { kind: "folder", path: "/fabricated", origin: "dataDir" } as const;

  test("subtracts the per-pixel training mean from every split, exactly the course's way", () => {
    const raw = fabricatedRaw(40, 10);
    const cifar = preprocessCifar10(raw, location, { validationSize: 8 });
    expect(cifar.train.numExamples).toBe(32);
    expect(cifar.validation.numExamples).toBe(8);
    expect(cifar.test.numExamples).toBe(10);
    // Validation is the first 8 training images, unshuffled.
    expect(cifar.validation.rawLabels).toEqual(raw.train.labels.subarray(0, 8));
    expect(cifar.train.image(0)).toEqual(raw.train.images.subarray(8 * 3072, 9 * 3072));
    // The mean image over all 40 training images (validation included).
    for (const p of [0, 1500, 3071]) {
      let sum = 0;
      for (let i = 0; i < 40; i++) sum += raw.train.images[i * 3072 + p];
      expect(cifar.meanImage[p]).toBe(Math.fround(sum / 40));
    }
    // Each float is Math.fround(pixel − mean), for every split.
    for (const [split, images] of [[cifar.test, raw.test.images], [cifar.validation, raw.train.images]] as const) {
      const out = split.all().imagesF32;
      for (let k = 0; k < out.length; k += 997) expect(out[k]).toBe(Math.fround(images[k] - cifar.meanImage[k % 3072]));
    }
    // Over all 40 training images the result averages to ~0 at every pixel.
    const sums = new Float64Array(3072);
    for (const split of [cifar.validation, cifar.train]) {
      const all = split.all().imagesF32;
      for (let k = 0; k < all.length; k++) sums[k % 3072] += all[k];
    }
    expect(Math.max(...sums.map(Math.abs)) / 40).toBeLessThan(1e-4);
    expect(cifar.classNames).toEqual(raw.classNames);
    expect(cifar.train.classNames).toEqual(raw.classNames);
  });

  test("per-channel normalisation gives zero mean and unit std per channel on the training set", () => {
    const cifar = preprocessCifar10(fabricatedRaw(30, 5), location, { normalization: "per-channel" });
    const all = cifar.train.all().imagesF32;
    for (let c = 0; c < 3; c++) {
      let sum = 0, squares = 0, n = 0;
      for (let i = 0; i < 30; i++) {
        for (let p = 0; p < 1024; p++) {
          const v = all[i * 3072 + c * 1024 + p];
          sum += v;
          squares += v * v;
          n++;
        }
      }
      expect(Math.abs(sum / n)).toBeLessThan(1e-5);
      expect(Math.sqrt(squares / n)).toBeCloseTo(1, 5);
    }
    const stats = cifar.channelStats();
    expect(stats.mean[0]).toBeCloseTo(127.5, -1);
    const raw = preprocessCifar10(fabricatedRaw(3, 2), location, { normalization: "none" });
    expect(raw.train.all().imagesF32[5]).toBe(raw.train.image(0)[5]);
  });

  test("rejects a validation size outside the training set", () => {
    expect(() => preprocessCifar10(fabricatedRaw(5, 1), location, { validationSize: 6 })).toThrow(
      /validationSize must be an integer between 0 and 5/,
    );
    expect(() => preprocessCifar10(fabricatedRaw(5, 1), location, { validationSize: -1 })).toThrow(ValueError);
  });
});

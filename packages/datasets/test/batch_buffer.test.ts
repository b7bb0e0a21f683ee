import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ValueError } from "@backprop/tensor";
import { BatchBuffer, DataSet, parseBatch } from "../src/mod.ts";
import { cyclicLabels, makeRecords, sameBytes } from "./helpers.ts";

/** n examples whose every pixel equals the example's index (mod 256), labels cycling 0–9. */
function indexed(n: number, options: ConstructorParameters<typeof DataSet>[2] = {}): DataSet {
  const parsed = parseBatch(makeRecords(cyclicLabels(n), (r) => r % 256), "fabricated");
  return new DataSet(parsed.images, parsed.labels, options);
}

describe("BatchBuffer", () => {
  test("nextBatch into a buffer gives exactly the batches of new arrays, augmented or not", () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 30 }),
      fc.integer(),
      fc.boolean(),
      fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 20 }),
      (n, seed, augmented, sizes) => {
        const options = { seed, augment: augmented ? { crop: true, flip: true } : undefined };
        const [plain, reused] = [indexed(n, options), indexed(n, options)];
        const buffer = new BatchBuffer(30);
        for (const size of sizes.map((s) => Math.min(s, n))) {
          const expected = plain.nextBatch(size);
          const batch = reused.nextBatch(size, { into: buffer });
          expect(batch.size).toBe(size);
          expect([...batch.indices]).toEqual([...expected.indices]);
          expect([...batch.labelsI32]).toEqual([...expected.labelsI32]);
          expect(sameBytes(batch.imagesF32, expected.imagesF32)).toBe(true);
          expect(batch.imagesF32.buffer).toBe(buffer.images.buffer);
        }
        expect(reused.getState()).toEqual(plain.getState());
      },
    ), { numRuns: 40 });
  });

  test("a batch superseded in its buffer throws on every read instead of showing the newer batch", async () => {
    const data = indexed(12);
    const buffer = new BatchBuffer(4);
    const first = data.nextBatch(4, { into: buffer });
    const firstImages = first.images; // a tensor is a copy: it outlives the buffer's reuse
    expect(first.valid).toBe(true);
    const second = data.nextBatch(4, { into: buffer });
    expect(first.valid).toBe(false);
    expect(second.valid).toBe(true);
    for (const read of [() => first.imagesF32, () => first.labelsI32, () => first.indices, () => first.labelsOneHotF32, () => first.labels]) {
      expect(read).toThrow(ValueError);
    }
    expect(() => first.imagesF32).toThrow(/Batch\.imagesF32: this batch's BatchBuffer has since been filled with another batch \(assembled 1 batches later\)/);
    expect((await firstImages.data())[0]).toBe(0);
    expect(second.imagesF32[0]).toBe(4);
    first.dispose(); // still allowed: frees the tensors made before
    second.dispose();
  });

  test("batches() and gather() fill a buffer too; a short last batch uses its front", () => {
    const data = indexed(10);
    const buffer = new BatchBuffer(4);
    const seen = [...data.batches(4, { into: buffer })].map((b) => b.size);
    expect(seen).toEqual([4, 4, 2]);
    let previous: ReturnType<typeof data.gather> | undefined;
    for (const batch of data.batches(4, { into: buffer })) {
      expect(previous?.valid ?? false).toBe(false);
      expect(batch.imagesF32[0]).toBe(batch.indices[0]);
      previous = batch;
    }
    const gathered = data.gather([7, 3], { into: buffer });
    expect([...gathered.labelsI32]).toEqual([7, 3]);
    expect(gathered.imagesF32.length).toBe(2 * 3072);
    expect(previous!.valid).toBe(false);
  });

  test("a batch larger than the buffer is refused with both sizes named, before the batch order moves", () => {
    const data = indexed(10);
    const buffer = new BatchBuffer(3);
    data.nextBatch(2);
    const before = data.getState();
    expect(() => data.nextBatch(4, { into: buffer })).toThrow(/nextBatch: a batch of 4 examples does not fit the BatchBuffer's capacity 3/);
    expect(data.getState()).toEqual(before);
    expect(() => data.gather([0, 1, 2, 3], { into: buffer })).toThrow(/gather: a batch of 4 examples/);
    expect(() => [...data.batches(5, { into: buffer })]).toThrow(ValueError);
    expect(() => new BatchBuffer(0)).toThrow(/BatchBuffer: capacity must be a positive integer, got 0/);
    expect(() => new BatchBuffer(2.5)).toThrow(ValueError);
  });
});

describe("batch assembly", () => {
  test("every value is float32((pixel − offset) · scale), with a unit scale or any other", () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 6 }),
      fc.boolean(),
      fc.integer(),
      (n, unit, seed) => {
        let state = seed | 0;
        const next = () => (state = (Math.imul(state, 1664525) + 1013904223) | 0) >>> 0;
        const parsed = parseBatch(makeRecords(cyclicLabels(n), () => 0), "random");
        for (let i = 0; i < parsed.images.length; i++) parsed.images[i] = next() & 255;
        const offset = Float32Array.from({ length: 3072 }, () => (next() % 25600) / 100 - 0.37);
        const scale = Float32Array.from({ length: 3072 }, () => (unit ? 1 : 1 / (1 + (next() % 1000) / 7)));
        const data = new DataSet(parsed.images, parsed.labels, { transform: { normalization: "per-channel", offset, scale } });
        for (const batch of [data.all(), data.gather([n - 1], { into: new BatchBuffer(1) })]) {
          for (let b = 0; b < batch.size; b++) {
            const base = batch.indices[b]! * 3072;
            for (let p = 0; p < 3072; p++) {
              const expected = Math.fround((parsed.images[base + p]! - offset[p]!) * scale[p]!);
              if (batch.imagesF32[b * 3072 + p] !== expected) {
                expect(batch.imagesF32[b * 3072 + p], `example ${batch.indices[b]}, value ${p}`).toBe(expected);
              }
            }
          }
        }
      },
    ), { numRuns: 30 });
  });
});

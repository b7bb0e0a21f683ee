import { BatchBuffer, loadCifar10 } from "@backprop/datasets";
import { getBackend, tidy, ValueError } from "@backprop/tensor";
import { describe, expect, test } from "vitest";
import { type Evaluation, evaluate, EvaluationSet } from "../src/train/evaluate.ts";
import { createTrainer } from "../src/train/models.ts";
import { hasMini, miniArchive, quickConfig, tempDir } from "./helpers.ts";

const liveStorages = () => getBackend("cpu").memory().storages;

/** Every number of two evaluations, bit for bit. */
function expectSame(a: Evaluation, b: Evaluation): void {
  expect(Object.is(a.loss, b.loss)).toBe(true);
  expect(a.accuracy).toBe(b.accuracy);
  expect(a.count).toBe(b.count);
  expect(a.predicted).toEqual(b.predicted);
  expect(a.confidence).toEqual(b.confidence);
}

describe.skipIf(!hasMini)("EvaluationSet: the test split converted once", () => {
  test.each([
    ["mlp-manual", 250, 0],
    ["mlp", 150, 500], // the last chunk is shorter (500 = 3 × 150 + 50)
  ] as const)("%s: every pass over the cache scores exactly what a pass over the DataSet does", async (model, batchSize, limit) => {
    const data = await loadCifar10({ dataDir: miniArchive, seed: 42 });
    const trainer = createTrainer(quickConfig(model, tempDir("evaluate"), { evalBatchSize: batchSize, evalSubset: limit }), "cpu");
    const buffer = new BatchBuffer(50);
    const steps = (n: number) => {
      for (let i = 0; i < n; i++) {
        const batch = data.train.nextBatch(50, { into: buffer });
        const { loss, correct } = trainer.trainStep(batch.images, batch.labels);
        loss.dispose();
        correct.dispose();
        batch.dispose();
      }
    };
    const cached = new EvaluationSet(data.test, { batchSize, limit });
    expect(cached.count).toBe(limit || 1000);
    for (const [tta, collect] of [["none", false], ["none", true], ["flip", true]] as const) {
      steps(5); // other weights each time: the cache must hold the inputs only
      const options = { batchSize, limit, collect, tta };
      const before = liveStorages();
      const direct = await evaluate(trainer, data.test, options);
      expect(liveStorages()).toBe(before);
      const first = await evaluate(trainer, cached, options);
      const again = await evaluate(trainer, cached, options);
      expectSame(first, direct);
      expectSame(again, direct);
      expect(direct.count).toBe(limit || 1000);
    }
    const held = liveStorages();
    cached.dispose();
    expect(liveStorages()).toBe(held - 2 * Math.ceil(cached.count / batchSize));
    await expect(evaluate(trainer, cached, { batchSize, limit })).rejects.toThrow(/EvaluationSet: used after dispose\(\)/);
  }, 120_000);

  test("holds one pair of tensors per chunk however many passes, and survives a caller's scope", async () => {
    const data = await loadCifar10({ dataDir: miniArchive, seed: 42 });
    const trainer = createTrainer(quickConfig("mlp-manual", tempDir("evaluate")), "cpu");
    const cached = new EvaluationSet(data.test, { batchSize: 300, limit: 0 });
    const before = liveStorages();
    // The first pass runs inside a scope: the cached chunks must outlive it.
    const chunk = tidy(() => cached.chunk(0));
    expect(chunk.images.shape).toEqual([300, 3, 32, 32]);
    const first = await evaluate(trainer, cached, { batchSize: 300 });
    expect(liveStorages()).toBe(before + 2 * 4);
    const second = await evaluate(trainer, cached, { batchSize: 300 });
    expect(liveStorages()).toBe(before + 2 * 4);
    expectSame(first, second);
    cached.dispose();
    expect(liveStorages()).toBe(before);
  }, 60_000);

  test("refuses an evaluation with other chunking than it was built for, and bad arguments", async () => {
    const data = await loadCifar10({ dataDir: miniArchive, seed: 42 });
    const trainer = createTrainer(quickConfig("mlp-manual", tempDir("evaluate")), "cpu");
    const cached = new EvaluationSet(data.test, { batchSize: 250, limit: 500 });
    await expect(evaluate(trainer, cached, { batchSize: 200, limit: 500 })).rejects.toThrow(
      /evaluate: the EvaluationSet was built for batchSize 250 and limit 500, got batchSize 200 and limit 500/,
    );
    expect(() => cached.chunk(100)).toThrow(/EvaluationSet\.chunk: start must be a multiple of 250 below 500, got 100/);
    expect(() => new EvaluationSet(data.test, { batchSize: 0 })).toThrow(ValueError);
    cached.dispose();
  }, 60_000);
});

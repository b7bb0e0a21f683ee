import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Generator, logSoftmax, type NDArray, randn, tensor } from "@backprop/tensor";
import { describe, expect, test } from "vitest";
import { run } from "../src/main.ts";
import { flipAveragedLogProbs } from "../src/train/evaluate.ts";
import { StopSignal, train } from "../src/train/loop.ts";
import type { Trainer } from "../src/train/trainer.ts";
import { hasMini, miniArchive, quickConfig, silent, tempDir } from "./helpers.ts";

/** A stand-in trainer: only `predict` is used by evaluation. */
const trainerOf = (predict: (images: NDArray) => NDArray) => ({ predict }) as unknown as Trainer;

describe("flip test-time augmentation", () => {
  const g = new Generator(7);
  const images = randn([3, 2, 4, 5], { generator: g });
  const weights = randn([2 * 4 * 5, 6], { generator: g }).mul(3);
  const linear = (x: NDArray) => x.reshape([x.shape[0]!, -1]).matmul(weights);

  test("is the log of the mean softmax of each image and of its mirror image", () => {
    const got = flipAveragedLogProbs(trainerOf(linear), images).dataSync();
    const x = images.dataSync(), w = images.shape[3]!;
    const mirrored = new Float32Array(x.length);
    for (let row = 0; row < x.length / w; row++) {
      for (let j = 0; j < w; j++) mirrored[row * w + j] = x[row * w + (w - 1 - j)]!;
    }
    const probs = (a: NDArray) => logSoftmax(linear(a), 1).exp().dataSync();
    const [p, q] = [probs(images), probs(tensor(mirrored, { shape: images.shape }))];
    for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(Math.log((p[i]! + q[i]!) / 2), 5);
  });

  test("changes nothing for a model that cannot tell an image from its mirror image", () => {
    // Logits from each row's sum: the same for an image and its mirror image.
    const rowWeights = randn([2 * 4, 6], { generator: g });
    const symmetric = (x: NDArray) => x.sum(3).reshape([x.shape[0]!, -1]).matmul(rowWeights);
    const plain = logSoftmax(symmetric(images), 1).dataSync();
    const tta = flipAveragedLogProbs(trainerOf(symmetric), images).dataSync();
    for (let i = 0; i < plain.length; i++) expect(tta[i]).toBeCloseTo(plain[i]!, 5);
  });

  test("stays finite where a probability underflows float32", () => {
    const confident = (x: NDArray) => linear(x).mul(1e4);
    expect(Array.from(flipAveragedLogProbs(trainerOf(confident), images).dataSync()).every(Number.isFinite)).toBe(true);
  });
});

describe.skipIf(!hasMini)("eval on the mini archive", () => {
  const capture = async (argv: string[]) => {
    const out: string[] = [], err: string[] = [];
    const [log, error] = [console.log, console.error];
    console.log = (s: string) => out.push(s);
    console.error = (s: string) => err.push(s);
    try {
      return { code: await run(argv), out: out.join("\n"), err: err.join("\n") };
    } finally {
      [console.log, console.error] = [log, error];
    }
  };

  test("a trained run's checkpoint scores what the run recorded; --tta flip evaluates it on mirror images too", async () => {
    const dir = tempDir("eval");
    // The whole test split (1,000 images in the mini archive), as eval uses.
    const { summary } = await train(quickConfig("mlp", dir, { maxSteps: 20, evalSubset: 0 }), silent, new StopSignal());
    const plain = await capture(["eval", dir, "--data_dir", miniArchive, "--json"]);
    expect(plain.code).toBe(0);
    const result = JSON.parse(plain.out);
    expect(result).toMatchObject({ model: "mlp", step: 20, examples: 1000, tta: "none" });
    expect(result.test_accuracy).toBe(summary.final_test_accuracy);
    expect(result.test_loss).toBeCloseTo(summary.final_test_loss!, 5);
    expect(Object.keys(result.per_class_accuracy)).toHaveLength(10);

    const flipped = await capture(["eval", join(dir, "checkpoint.safetensors"), "--data_dir", miniArchive, "--tta", "flip", "--json"]);
    expect(flipped.code).toBe(0);
    const tta = JSON.parse(flipped.out);
    expect(tta).toMatchObject({ tta: "flip", examples: 1000 });
    expect(tta.test_accuracy).toBeGreaterThan(0.1);
    expect(tta.test_loss).not.toBe(result.test_loss);
    expect(JSON.parse(readFileSync(join(dir, "summary.json"), "utf8")).final_test_accuracy).toBe(summary.final_test_accuracy);
  }, 120_000);

  test.each([
    [["eval", "/nowhere/run"], /eval: \/nowhere\/run does not exist/],
    [["eval", ".", "--tta", "rotate"], /--tta: expected one of none, flip, got "rotate"/],
  ])("%j is a usage error (exit 2)", async (argv, message) => {
    const { code, err } = await capture(argv as string[]);
    expect(code).toBe(2);
    expect(err).toMatch(message as RegExp);
  });
});

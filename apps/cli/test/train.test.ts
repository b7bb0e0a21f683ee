import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeSafetensors } from "@backprop/nn";
import { describe, expect, test } from "vitest";
import { StopSignal, train } from "../src/train/loop.ts";
import type { MetricsLine } from "../src/records.ts";
import type { Progress } from "../src/progress.ts";
import { run } from "../src/main.ts";
import { hasMini, miniArchive, quickConfig, silent, tempDir } from "./helpers.ts";

const metricsOf = (dir: string): MetricsLine[] =>
  readFileSync(join(dir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));

/** A progress display that asks the loop to stop at `step`, as a Ctrl-C during that step would. */
function stopAt(step: number, stop: StopSignal): Progress {
  return { ...silent, update: (s) => void (s.step === step && (stop.requested = true)) };
}

describe.skipIf(!hasMini)("train on the mini archive", () => {
  test.each([
    ["mlp-manual", {}],
    ["mlp", { dropout: 0.1 }],
    ["mlp-bn", { batchNorm: "manual" as const, optimizer: "adam" as const, learningRate: 1e-3, init: "pytorch" as const }],
    ["mlp-bn", { batchNorm: "autograd" as const, optimizer: "adam" as const, learningRate: 1e-3, init: "pytorch" as const }],
  ] as const)("%s learns and writes every record", async (model, overrides) => {
    const out = tempDir(model);
    const { exitCode, summary } = await train(quickConfig(model, out, { maxSteps: 40, ...overrides }), silent, new StopSignal());
    expect(exitCode).toBe(0);
    expect(summary.status).toBe("completed");
    for (const f of ["config.json", "metrics.jsonl", "summary.json", "predictions.json", "checkpoint.safetensors"]) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const metrics = metricsOf(out);
    expect(metrics.map((m) => m.step)).toEqual([10, 20, 30, 40]);
    expect(metrics.at(-1)!.train_loss).toBeLessThan(metrics[0]!.train_loss);
    expect(summary.final_test_accuracy).toBeGreaterThan(0.15);
    // The last evaluation is the final one: the summary and the last metrics line agree.
    expect(summary.final_test_accuracy).toBe(metrics.at(-1)!.test_accuracy);
    expect(summary.final_test_loss).toBe(metrics.at(-1)!.test_loss);
    const config = JSON.parse(readFileSync(join(out, "config.json"), "utf8"));
    expect(config.flags).toMatchObject({ model, max_steps: 40, seed: 42 });
    const predictions = JSON.parse(readFileSync(join(out, "predictions.json"), "utf8"));
    expect(predictions.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(500);
    expect(predictions.samples).toHaveLength(32);
    expect(atob(predictions.samples[0].image)).toHaveLength(3072);
  }, 120_000);

  test("mlp and mlp-manual give the same curve (same initial weights, same batches)", async () => {
    const [a, b] = [tempDir("agree-a"), tempDir("agree-b")];
    await train(quickConfig("mlp", a), silent, new StopSignal());
    await train(quickConfig("mlp-manual", b), silent, new StopSignal());
    const [ma, mb] = [metricsOf(a), metricsOf(b)];
    ma.forEach((m, i) => {
      expect(m.train_loss).toBeCloseTo(mb[i]!.train_loss, 4);
      expect(m.test_accuracy).toBeCloseTo(mb[i]!.test_accuracy, 2);
    });
  }, 120_000);

  test("cnn: a few steps on small batches", async () => {
    const out = tempDir("cnn");
    const config = quickConfig("cnn", out, { maxSteps: 3, batchSize: 4, evalFreq: 3, evalSubset: 8, evalBatchSize: 8 });
    const { exitCode } = await train(config, silent, new StopSignal());
    expect(exitCode).toBe(0);
    const ckpt = decodeSafetensors(new Uint8Array(readFileSync(join(out, "checkpoint.safetensors"))));
    expect(Object.keys(ckpt.tensors)).toContain("model.conv1.weight");
  }, 300_000);

  test("an interrupted run resumed with --resume ends exactly where the uninterrupted run does", async () => {
    const [whole, split] = [tempDir("whole"), tempDir("split")];
    const config = (out: string) => quickConfig("mlp", out, { maxSteps: 30, dropout: 0.2, momentum: 0.9 });
    await train(config(whole), silent, new StopSignal());
    const stop = new StopSignal();
    const first = await train(config(split), stopAt(17, stop), stop);
    expect(first.exitCode).toBe(130);
    expect(first.summary.status).toBe("interrupted");
    expect(first.summary.steps).toBe(17);
    const second = await train({ ...config(split), resume: true }, silent, new StopSignal());
    expect(second.exitCode).toBe(0);
    const load = (dir: string) => decodeSafetensors(new Uint8Array(readFileSync(join(dir, "checkpoint.safetensors")))).tensors;
    const [a, b] = [load(whole), load(split)];
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    for (const key of Object.keys(a)) expect(Array.from(b[key]!.dataSync()), key).toEqual(Array.from(a[key]!.dataSync()));
    const strip = (m: MetricsLine) => ({ ...m, elapsed_s: 0, examples_per_s: 0 });
    expect(metricsOf(split).map(strip)).toEqual(metricsOf(whole).map(strip));
  }, 120_000);

  test("--resume continues with the recorded flags: given ones that would change the run are refused, max_steps may grow", async () => {
    const [whole, split] = [tempDir("rec-whole"), tempDir("rec-split")];
    const started = (out: string) => quickConfig("mlp", out, { maxSteps: 30, dropout: 0.2, momentum: 0.9 });
    await train(started(whole), silent, new StopSignal());
    const stop = new StopSignal();
    await train(started(split), stopAt(12, stop), stop);
    // The command line `train mlp --resume --out <dir> --dropout 0.5`: the recorded dropout is 0.2.
    const bare = { ...quickConfig("mlp", split), resume: true };
    await expect(train({ ...bare, dropout: 0.5, explicit: ["dropout", "out", "resume"] }, silent, new StopSignal()))
      .rejects.toThrow(/--resume: .*config.json records --dropout 0.2, got --dropout 0.5; leave it out/);
    await expect(train({ ...bare, explicit: ["max_steps", "out", "resume"], maxSteps: 5 }, silent, new StopSignal()))
      .rejects.toThrow(/--max_steps: .* is at step 12 already, got 5/);
    await expect(train({ ...quickConfig("cnn", split), resume: true, explicit: [] }, silent, new StopSignal()))
      .rejects.toThrow(/records a mlp run, got model cnn/);
    await expect(train({ ...bare, batchNorm: "autograd", explicit: ["batch_norm", "out", "resume"] }, silent, new StopSignal()))
      .rejects.toThrow(/--batch_norm: mlp does not use it; it applies to mlp-bn/);
    // Without the flags (quickConfig's defaults stand for flags not given), the run goes on as it was started.
    const resumed = await train({ ...bare, explicit: ["out", "resume"] }, silent, new StopSignal());
    expect(resumed.summary.steps).toBe(30);
    const strip = (m: MetricsLine) => ({ ...m, elapsed_s: 0, examples_per_s: 0 });
    expect(metricsOf(split).map(strip)).toEqual(metricsOf(whole).map(strip));
    // A completed run can be extended: --max_steps 40 goes on for 10 more steps and the record says so.
    const longer = await train({ ...bare, maxSteps: 40, explicit: ["max_steps", "out", "resume"] }, silent, new StopSignal());
    expect(longer.summary.steps).toBe(40);
    expect(metricsOf(split).map((m) => m.step)).toEqual([10, 20, 30, 40]);
    const config = JSON.parse(readFileSync(join(split, "config.json"), "utf8"));
    expect(config.flags).toMatchObject({ max_steps: 40, dropout: 0.2, momentum: 0.9 });
    expect(config.flags).not.toHaveProperty("batch_norm");
    expect(config.resumes.map((r: { at_step: number; changed: object }) => [r.at_step, r.changed])).toEqual([[12, {}], [30, { max_steps: 40 }]]);
  }, 120_000);

  test("--lr_schedule cosine: warm-up then decay, recorded per window, and a resumed run keeps to the schedule", async () => {
    const [whole, split] = [tempDir("cos-whole"), tempDir("cos-split")];
    const config = (out: string) =>
      quickConfig("mlp", out, { maxSteps: 30, lrSchedule: "cosine", warmupSteps: 10, optimizer: "adam", learningRate: 1e-3, init: "pytorch" });
    await train(config(whole), silent, new StopSignal());
    // The rate of each window's last step: steps 10, 20, 30 have indices 9, 19, 29.
    const rates = metricsOf(whole).map((m) => m.learning_rate!);
    expect(rates[0]).toBeCloseTo(1e-3, 12);
    expect(rates[1]).toBeCloseTo(1e-3 * 0.5 * (1 + Math.cos(Math.PI * 9 / 20)), 12);
    expect(rates[2]).toBeCloseTo(1e-3 * 0.5 * (1 + Math.cos(Math.PI * 19 / 20)), 12);
    const stop = new StopSignal();
    expect((await train(config(split), stopAt(14, stop), stop)).exitCode).toBe(130);
    expect((await train({ ...config(split), resume: true }, silent, new StopSignal())).exitCode).toBe(0);
    const strip = (m: MetricsLine) => ({ ...m, elapsed_s: 0, examples_per_s: 0 });
    expect(metricsOf(split).map(strip)).toEqual(metricsOf(whole).map(strip));
  }, 120_000);

  test("a diverging run stops with a message naming the step, exit 1, and keeps its last good checkpoint", async () => {
    const out = tempDir("nan");
    const { exitCode, summary } = await train(
      quickConfig("mlp", out, { learningRate: 1e9, init: "pytorch", maxSteps: 40, evalFreq: 1 }),
      silent,
      new StopSignal(),
    );
    expect(exitCode).toBe(1);
    expect(summary.status).toBe("diverged");
    expect(summary.message).toMatch(/at step \d+/);
    expect(existsSync(join(out, "checkpoint.safetensors"))).toBe(true);
  }, 120_000);

  test("starting over an existing run without --resume is refused; resuming a run that does not exist too", async () => {
    const out = tempDir("exists");
    const errors: string[] = [];
    const spy = console.error;
    console.error = (s: string) => errors.push(s);
    try {
      const args = ["train", "mlp", "--data_dir", miniArchive, "--max_steps", "2", "--eval_freq", "1", "--eval_subset", "10", "--out", out, "--progress", "none"];
      expect(await run(args)).toBe(0);
      expect(await run(args)).toBe(2);
      expect(errors.join("\n")).toMatch(/already holds a run; pass --resume/);
      expect(await run(["train", "mlp", "--resume", "--out", join(out, "nope")])).toBe(2);
      expect(errors.join("\n")).toMatch(/--resume: no checkpoint at/);
    } finally {
      console.error = spy;
    }
  }, 60_000);
});

test("missing data: the datasets package's message and exit code 1", async () => {
  const errors: string[] = [];
  const spy = console.error;
  console.error = (s: string) => errors.push(s);
  try {
    const out = tempDir("nodata");
    expect(await run(["train", "mlp", "--data_dir", join(out, "nowhere"), "--out", join(out, "run"), "--progress", "none"])).toBe(1);
  } finally {
    console.error = spy;
  }
  expect(errors.join("\n")).toMatch(/nowhere/);
}, 30_000);

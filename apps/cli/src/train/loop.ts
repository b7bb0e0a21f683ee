import { existsSync } from "node:fs";
import { join } from "node:path";
import { type Cifar10, loadCifar10 } from "@backprop/datasets";
import { constantSchedule, cosineSchedule, type LrSchedule } from "@backprop/nn";
import { keep, type NDArray } from "@backprop/tensor";
import { UsageError } from "../errors.ts";
import { configFlags, resumeConfig, type TrainConfig } from "../flags.ts";
import type { Progress } from "../progress.ts";
import { type MetricsLine, RunRecords, type Summary } from "../records.ts";
import { gitCommit, PeakRss, runtimeVersions } from "../runtime.ts";
import { type CheckpointMeta, decodeCheckpoint, encodeCheckpoint } from "./checkpoint.ts";
import { resolveDevice } from "./device.ts";
import { type Evaluation, evaluate } from "./evaluate.ts";
import { buildPredictions } from "./predictions.ts";
import { createTrainer } from "./models.ts";
import type { Trainer } from "./trainer.ts";

export const VERSION = "0.1.0";

export interface TrainResult {
  exitCode: number;
  summary: Summary;
  runDir: string;
}

export function defaultRunDir(c: TrainConfig, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\..*/, "").replace("T", "-");
  return join("runs", `${c.model}-s${c.seed}-${stamp}`);
}

/** Asks the loop to stop after the current step (Ctrl-C); a second request exits at once. */
export class StopSignal {
  requested = false;
}

/**
 * Trains `config.model` on CIFAR-10 with the course's batching, evaluating on the test set every `evalFreq`
 * steps, writing the run records, checkpointing at each evaluation, and resuming from the last checkpoint
 * when `config.resume` is set (with the flags the run was started with: see `resumeConfig`).
 */
export async function train(given: TrainConfig, progress: Progress, stop: StopSignal): Promise<TrainResult> {
  const runDir = given.out ?? defaultRunDir(given);
  const records = new RunRecords(runDir);
  const checkpointFile = records.path("checkpoint.safetensors");
  if (given.resume && !existsSync(checkpointFile)) {
    throw new UsageError(`--resume: no checkpoint at ${checkpointFile}; start the run without --resume`);
  }
  if (!given.resume && existsSync(checkpointFile)) {
    throw new UsageError(`--out: ${runDir} already holds a run; pass --resume to continue it, or choose another --out`);
  }
  const recorded = given.resume ? records.readConfig() : null;
  const config = recorded?.flags ? resumeConfig(given, recorded.flags as Record<string, unknown>, records.path("config.json")) : given;
  const { device, note } = await resolveDevice(config.device);
  progress.log(note);
  const started = performance.now();
  const data: Cifar10 = await loadCifar10({
    dataDir: config.dataDir,
    validationSize: config.validationSize,
    normalization: config.normalize,
    seed: config.seed,
    augment: config.augment ? { crop: true, flip: true } : undefined,
    device,
  });
  progress.log(`data: ${data.train.numExamples} train, ${data.validation.numExamples} validation, ${data.test.numExamples} test images from ${data.location.path}`);
  const trainer: Trainer = createTrainer(config, device);
  const rss = new PeakRss();
  let step = 0, best: number | null = null, bestStep: number | null = null, elapsedBefore = 0;
  let resumed: { arrays: Record<string, NDArray>; meta: CheckpointMeta } | null = null;

  if (config.resume) {
    resumed = decodeCheckpoint(records.readCheckpoint()!, checkpointFile);
    const { arrays, meta } = resumed;
    trainer.loadState(arrays, meta.trainer);
    data.train.setState(meta.train);
    ({ step, best_test_accuracy: best, best_step: bestStep, elapsed_s: elapsedBefore } = meta);
    rss.include(meta.peak_rss_bytes);
    if (config.maxSteps < step) throw new UsageError(`--max_steps: ${runDir} is at step ${step} already, got ${config.maxSteps}`);
    records.truncateMetrics(step);
    if (recorded) {
      const before = recorded.flags as Record<string, unknown>, after = configFlags(config);
      const changed = Object.fromEntries(Object.entries(after).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(before[k])));
      const resumes = Array.isArray(recorded.resumes) ? recorded.resumes : [];
      records.writeConfig({
        ...recorded, flags: after,
        resumes: [...resumes, { at_step: step, at: new Date().toISOString(), git_commit: gitCommit(), changed }],
      });
    }
    progress.log(`resuming ${runDir} at step ${step}`);
  } else {
    records.writeConfig({
      name: runDir.split(/[\\/]/).pop(),
      model: config.model,
      flags: configFlags(config),
      device,
      seed: config.seed,
      parameters: trainer.parameterCount(),
      versions: { backprop: VERSION, ...runtimeVersions() },
      git_commit: gitCommit(),
      started_at: new Date().toISOString(),
    });
  }

  const elapsed = () => elapsedBefore + (performance.now() - started) / 1000;
  // Running sums of the current metrics window; checkpointed too, so a resumed run writes the same lines.
  let lossSum: NDArray | null = null, correctSum: NDArray | null = null, seen = 0;
  const checkpoint = async () => {
    const meta: CheckpointMeta = {
      step, train: data.train.getState(), trainer: trainer.extraState(), window_examples: seen,
      best_test_accuracy: best, best_step: bestStep, elapsed_s: elapsed(), peak_rss_bytes: rss.sample(),
    };
    const arrays = { ...trainer.state() };
    if (lossSum && correctSum) Object.assign(arrays, { "loop.loss_sum": lossSum, "loop.correct_sum": correctSum });
    records.writeCheckpoint(await encodeCheckpoint(arrays, meta));
  };
  const finish = (status: Summary["status"], last: { loss: number; accuracy: number } | null, message?: string): TrainResult => {
    const summary: Summary = {
      status, steps: step,
      final_test_accuracy: last?.accuracy ?? null, best_test_accuracy: best, best_step: bestStep,
      final_test_loss: last?.loss ?? null, wall_s: elapsed(), peak_rss_bytes: rss.sample(), device,
      ...(message ? { message } : {}),
    };
    records.writeSummary(summary);
    return { exitCode: status === "completed" ? 0 : status === "interrupted" ? 130 : 1, summary, runDir };
  };

  const readsSync = device === "cpu";
  if (resumed && resumed.arrays["loop.loss_sum"]) {
    lossSum = keep(resumed.arrays["loop.loss_sum"]!.to(device));
    correctSum = keep(resumed.arrays["loop.correct_sum"]!.to(device));
    seen = resumed.meta.window_examples;
  }
  let lastLoss: number | null = null, lastTestAccuracy: number | null = null, windowStart = performance.now(), windowSteps = 0;
  let lastEval: { loss: number; accuracy: number } | null = null;
  let finalEval: Evaluation | null = null;
  const state = () => ({
    step, totalSteps: config.maxSteps, lastLoss, lastTestAccuracy,
    stepsPerSecond: windowSteps / Math.max(1e-9, (performance.now() - windowStart) / 1000),
  });
  progress.start(state());
  // The steps are synchronous: give the event loop a turn now and then, so Ctrl-C (a signal event) is seen.
  let lastYield = performance.now();
  const yieldToEvents = async () => {
    if (performance.now() - lastYield < 100) return;
    await new Promise((resolve) => setTimeout(resolve, 0));
    lastYield = performance.now();
  };

  // A function of the step alone, so a resumed run picks up the same rates.
  const schedule: LrSchedule = config.lrSchedule === "cosine"
    ? cosineSchedule({ totalSteps: config.maxSteps, warmupSteps: config.warmupSteps })
    : constantSchedule;
  let learningRate = config.learningRate;
  while (step < config.maxSteps) {
    learningRate = config.learningRate * schedule(step);
    trainer.setLearningRate(learningRate);
    const batch = data.train.nextBatch(config.batchSize);
    const { loss, correct } = trainer.trainStep(batch.images, batch.labels);
    batch.dispose();
    step++;
    windowSteps++;
    seen += batch.size;
    const newLoss = keep(lossSum ? lossSum.add(loss) : loss.mul(1));
    const newCorrect = keep(correctSum ? correctSum.add(correct) : correct.mul(1));
    lossSum?.dispose();
    correctSum?.dispose();
    lossSum = newLoss;
    correctSum = newCorrect;
    if (readsSync) lastLoss = loss.itemSync();
    loss.dispose();
    correct.dispose();
    if (readsSync && !Number.isFinite(lastLoss)) {
      progress.stop();
      return finish("diverged", lastEval, `the training loss became ${lastLoss} at step ${step}; the checkpoint holds the last good state (step ${step - 1 - ((step - 1) % config.evalFreq)})`);
    }
    progress.update(state());

    const atEval = step % config.evalFreq === 0 || step === config.maxSteps;
    if (atEval) {
      const trainLoss = (await lossSum.data())[0]! / (seen / config.batchSize);
      const trainAcc = (await correctSum.data())[0]! / seen;
      lossSum.dispose();
      correctSum.dispose();
      lossSum = correctSum = null;
      if (!Number.isFinite(trainLoss)) {
        progress.stop();
        return finish("diverged", lastEval, `the training loss became ${trainLoss} between steps ${step - config.evalFreq + 1} and ${step}; the checkpoint holds the last good state`);
      }
      const evalStart = performance.now();
      // The last step's evaluation also collects the predictions, so the run need not evaluate twice at the end.
      const last = step === config.maxSteps;
      const ev = await evaluate(trainer, data.test, { batchSize: config.evalBatchSize, collect: last, limit: config.evalSubset });
      if (last) finalEval = ev;
      lastEval = ev;
      lastTestAccuracy = ev.accuracy;
      lastLoss = trainLoss;
      if (best === null || ev.accuracy > best) [best, bestStep] = [ev.accuracy, step];
      const trainSeconds = (evalStart - windowStart) / 1000;
      const line: MetricsLine = {
        step, train_loss: trainLoss, train_accuracy: trainAcc, test_loss: ev.loss, test_accuracy: ev.accuracy,
        elapsed_s: elapsed(), examples_per_s: seen / Math.max(1e-9, trainSeconds), learning_rate: learningRate,
      };
      records.appendMetrics(line);
      progress.log(`step ${step}: train loss ${trainLoss.toFixed(4)} acc ${trainAcc.toFixed(4)} | test loss ${ev.loss.toFixed(4)} acc ${ev.accuracy.toFixed(4)}`);
      seen = 0;
      await checkpoint();
      windowStart = performance.now();
      windowSteps = 0;
    }
    await yieldToEvents();
    if (stop.requested) {
      progress.stop();
      if (!atEval) await checkpoint();
      return finish("interrupted", lastEval, `stopped at step ${step}; continue with --resume --out ${runDir}`);
    }
  }
  progress.stop();
  const final = finalEval ?? await evaluate(trainer, data.test, { batchSize: config.evalBatchSize, collect: true, limit: config.evalSubset });
  records.writePredictions(buildPredictions(data.test, final));
  return finish("completed", final);
}

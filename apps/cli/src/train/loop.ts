import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { BatchBuffer, type Cifar10, loadCifar10 } from "@backprop/datasets";
import { constantSchedule, cosineSchedule, type LrSchedule } from "@backprop/nn";
import { keep, type NDArray } from "@backprop/tensor";
import { fsyncDir, TEMP_FILE } from "../atomic.ts";
import { asOutputError, OutputError, RunBusyError, RunRecordError, UsageError } from "../errors.ts";
import { LOCK_FILE, RunLock } from "../lock.ts";
import { configFlags, resumeConfig, type TrainConfig } from "../flags.ts";
import type { Progress } from "../progress.ts";
import { type MetricsLine, RunRecords, type Summary } from "../records.ts";
import { gitCommit, PeakRss, runtimeVersions } from "../runtime.ts";
import { type CheckpointMeta, decodeCheckpoint, encodeCheckpoint } from "./checkpoint.ts";
import { resolveDevice } from "./device.ts";
import { type Evaluation, evaluate, EvaluationSet } from "./evaluate.ts";
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
  // Checked now, before the data is loaded, and again once the folder's lock is held.
  checkRunFolder(given, runDir, checkpointFile);
  let recorded = given.resume ? requireConfig(records) : null;
  const config = recorded ? resumeConfig(given, recorded.flags as Record<string, unknown>, records.path("config.json")) : given;
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
  // Flags that do not fit the data are refused before anything is written.
  if (config.batchSize > data.train.numExamples) {
    throw new UsageError(
      `--batch_size: expected at most the ${data.train.numExamples} training images of ${data.location.path}` +
        `${config.validationSize ? ` (after --validation_size ${config.validationSize})` : ""}, got ${config.batchSize}`,
    );
  }
  progress.log(`data: ${data.train.numExamples} train, ${data.validation.numExamples} validation, ${data.test.numExamples} test images from ${data.location.path}`);

  const lock = RunLock.acquire(runDir, (line) => progress.log(line));
  try {
    checkRunFolder(given, runDir, checkpointFile);
    if (given.resume) {
      // Another process may have changed the run between the first look and the lock: read it again.
      const now = requireConfig(records);
      if (JSON.stringify(now.flags) !== JSON.stringify(recorded!.flags)) {
        throw new RunBusyError(`${records.path("config.json")} changed while this run was starting; run the command again`);
      }
      recorded = now;
    }
    if (given.overwrite) {
      const removed = clearRun(runDir);
      if (removed.length) progress.log(`--overwrite: removed ${removed.join(", ")} from ${runDir}`);
    }
    lock.removeStaleTemps((line) => progress.log(line));
    return await trainLocked(config, recorded, records, runDir, device, data, started, progress, stop);
  } finally {
    lock.release();
  }
}

/**
 * The files of a run record, which `--overwrite` removes (anything else in the folder is left alone). The
 * checkpoint goes first: a folder cleared only in part (a crash meanwhile) must not look resumable.
 */
const RUN_FILES = ["checkpoint.safetensors", "config.json", "metrics.jsonl", "predictions.json", "summary.json"];

function clearRun(runDir: string): string[] {
  const removed: string[] = [];
  for (const name of RUN_FILES) {
    const p = join(runDir, name);
    if (!existsSync(p)) continue;
    try {
      rmSync(p);
    } catch (e) {
      throw asOutputError(p, e);
    }
    removed.push(name);
  }
  fsyncDir(runDir);
  return removed;
}

/** What the folder holds besides the lock and temp files of interrupted writes. */
function runFolderEntries(runDir: string): string[] {
  if (!existsSync(runDir)) return [];
  if (!statSync(runDir).isDirectory()) throw new UsageError(`--out: ${runDir} is a file, not a folder`);
  return readdirSync(runDir).filter((name) => name !== LOCK_FILE && !name.startsWith(`${LOCK_FILE}.`) && !TEMP_FILE.test(name));
}

/** A new run needs an empty (or new) folder unless --overwrite; a resumed one needs a checkpoint. */
function checkRunFolder(given: TrainConfig, runDir: string, checkpointFile: string): void {
  if (given.resume && given.overwrite) throw new UsageError("--overwrite: it starts the run over; --resume continues it; give one of them");
  if (given.resume) {
    if (existsSync(checkpointFile)) return;
    const started = existsSync(join(runDir, "config.json"));
    throw new UsageError(
      `--resume: no checkpoint at ${checkpointFile}; ` +
        (started ? "the run stopped before its first checkpoint: start it over with --overwrite" : "start the run without --resume"),
    );
  }
  if (given.overwrite) return;
  const entries = runFolderEntries(runDir);
  if (entries.length === 0) return;
  const what = existsSync(checkpointFile) ? "already holds a run" : `is not empty (${entries.slice(0, 4).join(", ")}${entries.length > 4 ? ", …" : ""})`;
  throw new UsageError(`--out: ${runDir} ${what}; pass --resume to continue it, --overwrite to start over in it, or choose another --out`);
}

function requireConfig(records: RunRecords): Record<string, unknown> & { flags: Record<string, unknown> } {
  const file = records.path("config.json");
  const recorded = records.readConfig();
  if (!recorded) throw new RunRecordError(file, "missing; it records the flags the run was started with, which --resume continues");
  if (typeof recorded.flags !== "object" || recorded.flags === null) throw new RunRecordError(file, `has no "flags" object`);
  return recorded as Record<string, unknown> & { flags: Record<string, unknown> };
}

async function trainLocked(
  config: TrainConfig,
  recorded: Record<string, unknown> | null,
  records: RunRecords,
  runDir: string,
  device: string,
  data: Cifar10,
  started: number,
  progress: Progress,
  stop: StopSignal,
): Promise<TrainResult> {
  const checkpointFile = records.path("checkpoint.safetensors");
  let step = 0;
  // The step of the checkpoint on disk (null: none yet), which divergence and write failures report truthfully.
  let checkpointStep: number | null = null;
  // The test split, converted on the first evaluation and reused by the later ones; freed with the run.
  const testSet = new EvaluationSet(data.test, { batchSize: config.evalBatchSize, limit: config.evalSubset });
  // Training batches are assembled into one buffer: each batch is done with before the next is asked for.
  const batchBuffer = new BatchBuffer(config.batchSize);
  try {
    return await runSteps();
  } catch (e) {
    if (!(e instanceof OutputError)) throw e;
    const kept = checkpointStep === null
      ? "no checkpoint was written"
      : `the checkpoint on disk holds step ${checkpointStep} (continue with --resume --out ${runDir} once the folder is writable)`;
    throw new OutputError(e.file, `${e.reason}; training stopped at step ${step}; ${kept}`);
  } finally {
    testSet.dispose();
  }

  async function runSteps(): Promise<TrainResult> {
    const trainer: Trainer = createTrainer(config, device);
    const rss = new PeakRss();
    let best: number | null = null, bestStep: number | null = null, elapsedBefore = 0;
    let resumed: { arrays: Record<string, NDArray>; meta: CheckpointMeta } | null = null;

    if (config.resume) {
      resumed = decodeCheckpoint(records.readCheckpoint()!, checkpointFile);
      const { arrays, meta } = resumed;
      trainer.loadState(arrays, meta.trainer);
      data.train.setState(meta.train);
      ({ step, best_test_accuracy: best, best_step: bestStep, elapsed_s: elapsedBefore } = meta);
      checkpointStep = step;
      rss.include(meta.peak_rss_bytes);
      if (config.maxSteps < step) throw new UsageError(`--max_steps: ${runDir} is at step ${step} already, got ${config.maxSteps}`);
      if (meta.metrics) records.restoreMetrics(meta.metrics, step);
      else records.truncateMetrics(step);
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
        metrics: records.metricsDigest(),
      };
      const arrays = { ...trainer.state() };
      if (lossSum && correctSum) Object.assign(arrays, { "loop.loss_sum": lossSum, "loop.correct_sum": correctSum });
      records.writeCheckpoint(await encodeCheckpoint(arrays, meta));
      checkpointStep = step;
    };
    // A truthful account of what a diverged run leaves behind.
    const keptState = () =>
      checkpointStep === null
        ? `no checkpoint was written before it (the first comes at step ${Math.min(config.evalFreq, config.maxSteps)}), so there is nothing to resume; lower --learning_rate and start over with --overwrite`
        : `the checkpoint holds the last good state (step ${checkpointStep})`;
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
      const batch = data.train.nextBatch(config.batchSize, { into: batchBuffer });
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
        return finish("diverged", lastEval, `the training loss became ${lastLoss} at step ${step}; ${keptState()}`);
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
          return finish("diverged", lastEval, `the training loss became ${trainLoss} between steps ${Math.max(1, step - config.evalFreq + 1)} and ${step}; ${keptState()}`);
        }
        const evalStart = performance.now();
        // The last step's evaluation also collects the predictions, so the run need not evaluate twice at the end.
        const last = step === config.maxSteps;
        const ev = await evaluate(trainer, testSet, { batchSize: config.evalBatchSize, collect: last, limit: config.evalSubset });
        if (last) finalEval = ev;
        lastEval = ev;
        lastTestAccuracy = ev.accuracy;
        lastLoss = trainLoss;
        // The display shows this evaluation from now on, also after the last step (no stale accuracy at the end).
        progress.update(state());
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
    const final = finalEval ?? await evaluate(trainer, testSet, { batchSize: config.evalBatchSize, collect: true, limit: config.evalSubset });
    records.writePredictions(buildPredictions(data.test, final));
    return finish("completed", final);
  }
}

import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultsFor, type ModelName, type TrainConfig } from "../src/flags.ts";
import type { Progress } from "../src/progress.ts";

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, "../../..");
const sharedData = process.env.BACKPROP_SHARED_DATA ?? resolve(repoRoot, "../shared/data");
/** The 1,000-per-file CIFAR-10 archive the end-to-end tests train on. */
export const miniArchive = join(sharedData, "cifar-10-mini.tar.gz");
export const hasMini = existsSync(miniArchive);
if (!hasMini) console.log(`skipping CLI end-to-end tests: ${miniArchive} is absent (set BACKPROP_SHARED_DATA to the data folder)`);

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `backprop-cli-${prefix}-`));
}

/** A small, fast configuration on the mini archive. */
export function quickConfig(model: ModelName, out: string, overrides: Partial<TrainConfig> = {}): TrainConfig {
  const d = defaultsFor(model);
  return {
    model, dnnHiddenUnits: [32], learningRate: d.learningRate, lrSchedule: "constant", warmupSteps: 0, maxSteps: 20, batchSize: 50, evalFreq: 10,
    evalBatchSize: 250, evalSubset: 500, dataDir: miniArchive, optimizer: d.optimizer, momentum: 0, weightDecay: 0,
    seed: 42, device: "cpu", validationSize: 0, normalize: "mean-image", augment: false, batchNorm: "manual", init: d.init, dropout: 0,
    out, resume: false, progress: "none", ...overrides,
  };
}

export const silent: Progress = { start() {}, update() {}, log() {}, stop() {} };

// FIXTURE runs for the tests: small, made-up but well-formed run records (docs/RUN_RECORDS.md) written into a
// temp folder. Their numbers are synthetic curves, not results of any training.
import { Buffer } from "node:buffer";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FlagValue, MetricRow, Predictions, RunConfig, RunSummary, Sample } from "../src/types.ts";

export const CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

/** A small deterministic generator so fixtures are the same on every machine. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FixtureSpec {
  name: string;
  model?: string;
  flags?: Record<string, FlagValue>;
  seed?: number;
  /** The accuracy the synthetic curve approaches. */
  plateau?: number;
  steps?: number;
  evalFreq?: number;
  /** Records a cosine-decaying learning rate from this peak (else none, as in older records). */
  cosinePeak?: number;
  /**
   * Makes the run diverge: from this step on both losses grow geometrically to `divergedPeak` at the last step
   * and accuracy falls to chance; the summary says "diverged".
   */
  divergeAt?: number;
  /** The loss the diverging run ends at (default 3e12). */
  divergedPeak?: number;
}

export const DEFAULT_FLAGS: Record<string, FlagValue> = {
  dnn_hidden_units: [100],
  learning_rate: 0.002,
  max_steps: 1500,
  batch_size: 200,
  eval_freq: 100,
  optimizer: "sgd",
  weight_decay: 0,
  device: "cpu",
  data_dir: "/data/cifar-10",
};

export function fixtureConfig(spec: FixtureSpec): RunConfig {
  const seed = spec.seed ?? 42;
  return {
    name: spec.name,
    model: spec.model ?? "mlp",
    flags: { ...DEFAULT_FLAGS, ...spec.flags, seed, out: `runs/${spec.name}` },
    device: "cpu",
    seed,
    versions: { backprop: "0.0.0-fixture", node: "20.0.0" },
    git_commit: "f1x7ure0000000000000000000000000000000000",
    started_at: "2025-01-01T00:00:00.000Z",
  };
}

export function fixtureMetrics(spec: FixtureSpec): MetricRow[] {
  const rand = mulberry32(spec.seed ?? 42);
  const steps = spec.steps ?? 1500;
  const every = spec.evalFreq ?? 100;
  const plateau = spec.plateau ?? 0.46;
  const rows: MetricRow[] = [];
  for (let step = every; step <= steps; step += every) {
    const t = step / steps;
    const acc = 0.1 + (plateau - 0.1) * (1 - Math.exp(-4 * t));
    rows.push({
      step,
      train_loss: 2.3 - 0.9 * (1 - Math.exp(-4 * t)) + 0.05 * (rand() - 0.5),
      train_accuracy: acc + 0.03 * t + 0.01 * (rand() - 0.5),
      test_loss: 2.3 - 0.8 * (1 - Math.exp(-4 * t)) + 0.03 * (rand() - 0.5),
      test_accuracy: acc + 0.01 * (rand() - 0.5),
      elapsed_s: step * 0.02,
      examples_per_s: 10000 + 500 * rand(),
      ...(spec.cosinePeak === undefined ? {} : { learning_rate: spec.cosinePeak * 0.5 * (1 + Math.cos(Math.PI * (step - 1) / steps)) }),
    });
  }
  if (spec.divergeAt !== undefined) diverge(rows, spec.divergeAt, spec.divergedPeak ?? 3e12);
  return rows;
}

/** Rewrites the rows from `fromStep` on as a run blowing up: losses climb geometrically to `peak`, accuracy drops. */
function diverge(rows: MetricRow[], fromStep: number, peak: number): void {
  const start = rows.findIndex((r) => r.step >= fromStep);
  if (start < 0) return;
  const n = rows.length - start;
  const base = rows[start].train_loss!;
  for (let i = 0; i < n; i++) {
    const row = rows[start + i];
    const loss = base * (peak / base) ** ((i + 1) / n);
    row.train_loss = loss;
    row.test_loss = loss * 1.1;
    row.train_accuracy = 0.1;
    row.test_accuracy = 0.1;
  }
  rows[rows.length - 1].test_loss = peak;
}

export function fixtureSummary(spec: FixtureSpec, metrics: MetricRow[]): RunSummary {
  const last = metrics.at(-1)!;
  let best = metrics[0];
  for (const r of metrics) if (r.test_accuracy! > best.test_accuracy!) best = r;
  return {
    status: spec.divergeAt === undefined ? "completed" : "diverged",
    steps: last.step,
    final_test_accuracy: last.test_accuracy,
    best_test_accuracy: best.test_accuracy,
    best_step: best.step,
    final_test_loss: last.test_loss,
    wall_s: last.elapsed_s,
    peak_rss_bytes: 512 * 1024 * 1024 + (spec.seed ?? 0) * 1024 * 1024,
    device: "cpu",
  };
}

/** A 3×32×32 CHW image: a coloured disc on a gradient, so a broken channel order is visible. */
export function fixtureImage(k: number): Uint8Array {
  const pixels = new Uint8Array(3 * 32 * 32);
  const hue = (k * 37) % 256;
  for (let y = 0; y < 32; y++) {
    for (let x = 0; x < 32; x++) {
      const inDisc = (x - 16) ** 2 + (y - 16) ** 2 < (6 + (k % 8)) ** 2;
      const i = y * 32 + x;
      pixels[i] = inDisc ? hue : x * 8; // R plane
      pixels[1024 + i] = inDisc ? 255 - hue : y * 8; // G plane
      pixels[2048 + i] = inDisc ? 40 : 128; // B plane
    }
  }
  return pixels;
}

export function fixturePredictions(spec: FixtureSpec): Predictions {
  const rand = mulberry32((spec.seed ?? 42) + 1000);
  const plateau = spec.plateau ?? 0.46;
  const confusion = CLASSES.map((_, i) =>
    CLASSES.map((_, j) => (i === j ? Math.round(1000 * plateau) : Math.round((1000 * (1 - plateau)) / 9 + 10 * (rand() - 0.5))))
  );
  const sample = (index: number, wrong: boolean): Sample => {
    const label = index % 10;
    return {
      index,
      label,
      predicted: wrong ? (label + 3) % 10 : label,
      confidence: wrong ? 0.9 + 0.09 * rand() : 0.4 + 0.5 * rand(),
      image: Buffer.from(fixtureImage(index)).toString("base64"),
    };
  };
  return {
    classes: CLASSES,
    confusion,
    per_class_accuracy: confusion.map((row, i) => row[i] / row.reduce((a, b) => a + b, 0)),
    samples: Array.from({ length: 32 }, (_, i) => sample(i, rand() > plateau)),
    worst: Array.from({ length: 16 }, (_, i) => sample(100 + i, true)),
  };
}

/** Writes one complete fixture run into `root/<name>`; returns its folder. */
export async function writeFixtureRun(root: string, spec: FixtureSpec): Promise<string> {
  const dir = join(root, spec.name);
  await mkdir(dir, { recursive: true });
  const metrics = fixtureMetrics(spec);
  await writeFile(join(dir, "config.json"), JSON.stringify(fixtureConfig(spec), null, 2));
  await writeFile(join(dir, "metrics.jsonl"), metrics.map((r) => JSON.stringify(r) + "\n").join(""));
  await writeFile(join(dir, "summary.json"), JSON.stringify(fixtureSummary(spec, metrics), null, 2));
  await writeFile(join(dir, "predictions.json"), JSON.stringify(fixturePredictions(spec)));
  return dir;
}

/** The fixture set: two seeds of a baseline MLP, and runs each changing one thing from it. */
export const FIXTURE_SPECS: FixtureSpec[] = [
  { name: "fixture-mlp-s42", seed: 42, plateau: 0.46 },
  { name: "fixture-mlp-s43", seed: 43, plateau: 0.455 },
  { name: "fixture-mlp-lr1e-4-s42", seed: 42, plateau: 0.33, flags: { learning_rate: 0.0001 } },
  { name: "fixture-mlp-h512-s42", seed: 42, plateau: 0.5, flags: { dnn_hidden_units: [512, 256] } },
  { name: "fixture-mlp-adam-s42", seed: 42, plateau: 0.52, flags: { optimizer: "adam" } },
  {
    name: "fixture-cnn-s42",
    model: "cnn",
    seed: 42,
    plateau: 0.76,
    cosinePeak: 1e-3,
    steps: 5000,
    evalFreq: 500,
    flags: { optimizer: "adam", learning_rate: 0.0001, batch_size: 32, max_steps: 5000, eval_freq: 500, dnn_hidden_units: [] },
  },
];

/** The baseline MLP with a learning rate so large that it blows up: losses reach 3e12 by its last line. */
export const DIVERGED_SPEC: FixtureSpec = {
  name: "fixture-mlp-lr1e6-diverged-s42",
  seed: 42,
  plateau: 0.3,
  steps: 1000,
  divergeAt: 400,
  flags: { learning_rate: 1e6 },
};

/**
 * A temp folder holding the fixture runs; `broken` adds a run whose metrics.jsonl ends in a cut-off line,
 * `diverged` the run of DIVERGED_SPEC.
 */
export async function makeFixtureRuns(
  options: { broken?: boolean; diverged?: boolean } = {},
): Promise<{ root: string; dirs: string[] }> {
  const root = await mkdtemp(join(tmpdir(), "backprop-report-fixture-"));
  const runsRoot = join(root, "runs");
  const dirs: string[] = [];
  for (const spec of FIXTURE_SPECS) dirs.push(await writeFixtureRun(runsRoot, spec));
  if (options.diverged) dirs.push(await writeFixtureRun(runsRoot, DIVERGED_SPEC));
  if (options.broken) {
    const dir = await writeFixtureRun(runsRoot, { name: "fixture-broken-s44", seed: 44, plateau: 0.45 });
    const lines = fixtureMetrics({ name: "fixture-broken-s44", seed: 44, plateau: 0.45 }).map((r) => JSON.stringify(r));
    // Five whole lines and half of the sixth, as a run killed mid-write would leave it; no summary either.
    await writeFile(join(dir, "metrics.jsonl"), lines.slice(0, 5).join("\n") + "\n" + lines[5].slice(0, 30));
    await writeFile(join(dir, "summary.json"), "");
    dirs.push(dir);
  }
  return { root, dirs };
}

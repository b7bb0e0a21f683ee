// Prints a markdown table of run folders grouped by their settings (all flags but the seed and the output
// folder): final and best test accuracy as mean ± std over the seeds, steps, wall time, steps/s and peak RSS.
// Runs that have not finished (interrupted, diverged) are listed after the table, each with the step it reached.
// Usage: deno run -A scripts/results_table.ts runs/*
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { defaultsFor, type ModelName } from "../apps/cli/src/flags.ts";

interface Row {
  name: string;
  model: string;
  settings: string;
  seed: number;
  final: number;
  best: number | null;
  steps: number;
  maxSteps: number;
  wall: number;
  rss: number;
  status: string;
}

const IGNORED = new Set(["seed", "out", "data_dir", "eval_batch_size", "eval_subset", "progress", "device"]);

/** The value each flag has when it is not given, so a row lists only what was changed. */
function defaultFlags(model: ModelName): Record<string, string> {
  const d = defaultsFor(model);
  return {
    dnn_hidden_units: "100", learning_rate: String(d.learningRate), max_steps: String(d.maxSteps),
    batch_size: String(d.batchSize), eval_freq: String(d.evalFreq), optimizer: d.optimizer, momentum: "0",
    weight_decay: "0", validation_size: "0", normalize: "mean-image", augment: "false", lr_schedule: "constant", warmup_steps: "0",
    batch_norm: model === "mlp-bn" ? "manual" : "", init: d.init, dropout: "0",
  };
}

function readRun(dir: string): Row | null {
  const cfgFile = join(dir, "config.json"), sumFile = join(dir, "summary.json");
  if (!existsSync(cfgFile) || !existsSync(sumFile)) return null;
  const cfg = JSON.parse(readFileSync(cfgFile, "utf8"));
  const sum = JSON.parse(readFileSync(sumFile, "utf8"));
  const defaults = defaultFlags(cfg.model);
  const flags = Object.entries(cfg.flags as Record<string, unknown>)
    .filter(([k, v]) => !IGNORED.has(k) && k !== "model" && (defaults[k] ?? "") !== String(v) && !(k === "batch_norm" && cfg.model !== "mlp-bn"))
    .map(([k, v]) => (v === true ? `--${k}` : `--${k} ${v}`))
    .join(" ") || "(defaults)";
  return {
    name: basename(dir), model: cfg.model, settings: flags, seed: cfg.seed, final: sum.final_test_accuracy,
    best: sum.best_test_accuracy, steps: sum.steps, maxSteps: Number(cfg.flags.max_steps), wall: sum.wall_s, rss: sum.peak_rss_bytes, status: sum.status,
  };
}

const meanStd = (xs: number[]) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const s = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)) : 0;
  return xs.length > 1 ? `${m.toFixed(4)} ± ${s.toFixed(4)}` : m.toFixed(4);
};

const all = Deno.args.map(readRun).filter((r): r is Row => r !== null);
const rows = all.filter((r) => r.status === "completed");
const groups = new Map<string, Row[]>();
for (const r of rows) {
  const key = `${r.model} ${r.settings}`;
  groups.set(key, [...(groups.get(key) ?? []), r]);
}
console.log("| model | settings | seeds | final test accuracy | best test accuracy | steps | wall s / run | steps/s | peak RSS MiB |");
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
for (const rs of groups.values()) {
  const r0 = rs[0]!;
  const wall = rs.reduce((a, r) => a + r.wall, 0) / rs.length;
  console.log(
    `| ${r0.model} | \`${r0.settings}\` | ${rs.map((r) => r.seed).join(", ")} | ${meanStd(rs.map((r) => r.final))} | ` +
      `${meanStd(rs.map((r) => r.best ?? NaN))} | ${r0.steps} | ${wall.toFixed(0)} | ${(r0.steps / wall).toFixed(1)} | ` +
      `${Math.max(...rs.map((r) => r.rss / 2 ** 20)).toFixed(0)} |`,
  );
}

const unfinished = all.filter((r) => r.status !== "completed");
if (unfinished.length > 0) {
  console.log("\nNot finished:\n");
  for (const r of unfinished) {
    const best = r.best === null ? "no evaluation yet" : `best test accuracy so far ${r.best.toFixed(4)}`;
    console.log(
      `- ${r.model} \`${r.settings}\`, seed ${r.seed}: ${r.status} at step ${r.steps} of ${r.maxSteps}; ${best}; ` +
        `${r.wall.toFixed(0)} s so far (${(r.steps / r.wall).toFixed(2)} steps/s), peak RSS ${(r.rss / 2 ** 20).toFixed(0)} MiB.`,
    );
  }
}

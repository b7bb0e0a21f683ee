// The headline numbers of a run, from summary.json, or from metrics.jsonl when the summary is missing
// (a run still going, or one killed before it wrote its summary).
import type { Run } from "./types.ts";

export interface RunFacts {
  status: string;
  model?: string;
  device?: string;
  seed?: number;
  steps?: number;
  finalTestAccuracy?: number;
  bestTestAccuracy?: number;
  bestStep?: number;
  finalTestLoss?: number;
  wallS?: number;
  peakRssBytes?: number;
  /** Training throughput at the last metrics line. */
  examplesPerS?: number;
  /** True when the figures come from metrics.jsonl because summary.json is missing. */
  fromMetrics: boolean;
}

export function runFacts(run: Run): RunFacts {
  const s = run.summary;
  const rows = run.metrics;
  const withTest = rows.filter((r) => r.test_accuracy !== undefined);
  const lastTest = withTest.at(-1);
  let best = withTest[0];
  for (const r of withTest) if (r.test_accuracy! > best.test_accuracy!) best = r;
  const last = rows.at(-1);
  const seed = run.config?.seed ?? (typeof run.config?.flags.seed === "number" ? run.config.flags.seed : undefined);
  return {
    status: s?.status ?? (rows.length > 0 ? "no summary" : "no records"),
    model: run.config?.model,
    device: s?.device ?? run.config?.device,
    seed,
    steps: s?.steps ?? last?.step,
    finalTestAccuracy: num(s?.final_test_accuracy) ?? lastTest?.test_accuracy,
    bestTestAccuracy: num(s?.best_test_accuracy) ?? best?.test_accuracy,
    bestStep: num(s?.best_step) ?? best?.step,
    finalTestLoss: num(s?.final_test_loss) ?? withTest.filter((r) => r.test_loss !== undefined).at(-1)?.test_loss,
    wallS: num(s?.wall_s) ?? last?.elapsed_s,
    peakRssBytes: num(s?.peak_rss_bytes),
    examplesPerS: rows.filter((r) => r.examples_per_s !== undefined).at(-1)?.examples_per_s,
    fromMetrics: s === undefined,
  };
}

/** Whether a run finished normally: only those enter a mean ± std, so a killed run cannot drag it down. */
export function isCompleted(run: Run): boolean {
  return run.summary?.status === "completed";
}

/** Runs sorted by final test accuracy, best first; runs without one go last, in their given order. */
export function sortByTestAccuracy(runs: readonly Run[]): { run: Run; facts: RunFacts }[] {
  return runs
    .map((run, order) => ({ run, facts: runFacts(run), order }))
    .sort((a, b) => {
      const x = a.facts.finalTestAccuracy;
      const y = b.facts.finalTestAccuracy;
      if (x === undefined && y === undefined) return a.order - b.order;
      if (x === undefined) return 1;
      if (y === undefined) return -1;
      return y - x || a.order - b.order;
    })
    .map(({ run, facts }) => ({ run, facts }));
}

function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

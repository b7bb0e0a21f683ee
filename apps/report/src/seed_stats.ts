// Mean ± std over the repeats (seeds) of one configuration, over completed runs only: an interrupted or
// half-written run stopped early and would drag the mean down for a reason that is not the seed.
import { formatPercent, formatPercentMeanStd } from "./format.ts";
import { runName } from "./html.ts";
import { isCompleted, runFacts } from "./run_facts.ts";
import { type MeanStd, meanStd } from "./stats.ts";
import type { Run } from "./types.ts";

export interface SeedStats {
  finalTestAccuracy?: MeanStd;
  bestTestAccuracy?: MeanStd;
  wallS?: MeanStd;
  /** The runs the figures are over. */
  used: Run[];
  /** Runs left out because they did not complete. */
  left: Run[];
}

export function seedStats(runs: readonly Run[]): SeedStats {
  const used = runs.filter(isCompleted);
  const left = runs.filter((r) => !isCompleted(r));
  const facts = used.map(runFacts);
  return {
    finalTestAccuracy: meanStd(facts.map((f) => f.finalTestAccuracy)),
    bestTestAccuracy: meanStd(facts.map((f) => f.bestTestAccuracy)),
    wallS: meanStd(facts.map((f) => f.wallS)),
    used,
    left,
  };
}

/** "46.12 ± 0.31 %" for several runs, "46.12 %" for one, "—" for none. */
export function formatAccuracyStats(stats: MeanStd | undefined): string {
  if (stats === undefined) return "—";
  return stats.n > 1 ? formatPercentMeanStd(stats.mean, stats.std) : formatPercent(stats.mean);
}

/** A note naming the runs left out, or "". */
export function leftOutNote(stats: SeedStats): string {
  if (stats.left.length === 0) return "";
  const names = stats.left.map((r) => runName(r.id)).join(", ");
  return `<br><span class="muted">without ${names} (not completed)</span>`;
}

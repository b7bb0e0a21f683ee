// Shapes metrics.jsonl rows into the long-form points a Vega-Lite line chart draws (one row per point).
import type { MetricRow } from "./types.ts";

export type Metric = "loss" | "accuracy";
export type Split = "train" | "test";

export interface CurvePoint {
  step: number;
  split: Split;
  value: number;
}

/** Train and test curves of one metric; steps where a figure is missing (or was not finite) are left out. */
export function curve(rows: readonly MetricRow[], metric: Metric): CurvePoint[] {
  const points: CurvePoint[] = [];
  for (const split of ["train", "test"] as const) {
    const field = `${split}_${metric}` as const;
    for (const row of rows) {
      const value = row[field];
      if (value !== undefined) points.push({ step: row.step, split, value });
    }
  }
  return points;
}

/** The recorded learning rate per metrics line; empty when the rate never changed (nothing worth a chart). */
export function learningRateCurve(rows: readonly MetricRow[]): { step: number; value: number }[] {
  const points = rows.flatMap((r) => (r.learning_rate === undefined ? [] : [{ step: r.step, value: r.learning_rate }]));
  return points.some((p) => p.value !== points[0]!.value) ? points : [];
}

export interface SeriesPoint {
  step: number;
  /** The line this point belongs to, e.g. the run or the flag value. */
  series: string;
  value: number;
}

/** One metric of one split for several runs, each labelled by `seriesOf`, for drawing on shared axes. */
export function seriesCurves<R extends { metrics: readonly MetricRow[] }>(
  runs: readonly R[],
  field: Exclude<keyof MetricRow, "step">,
  seriesOf: (run: R) => string,
): SeriesPoint[] {
  const points: SeriesPoint[] = [];
  for (const run of runs) {
    const series = seriesOf(run);
    for (const row of run.metrics) {
      const value = row[field];
      if (value !== undefined) points.push({ step: row.step, series, value });
    }
  }
  return points;
}

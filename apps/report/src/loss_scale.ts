// How a loss chart's y-axis copes with a run that blew up. One diverged run (loss 3e12) on a linear axis flattens
// every healthy curve onto 0, so a loss chart looks at its lines first:
//   - every value within FENCE_FACTOR × the lowest starting loss: a plain linear axis, as for any chart;
//   - some lines stay within that fence and others leave it: the axis is clipped to the lines that stayed, and each
//     point above the clip is marked with a ▲ at the top edge and counted in the caption;
//   - every line leaves it (a diverged run's own chart): a log axis, so the whole climb is readable.
import { formatCompact } from "./format.ts";

/** A loss value leaves the "healthy" range above this multiple of the lowest first value of any line. */
export const FENCE_FACTOR = 10;

export interface LossPoint {
  step: number;
  value: number;
  /** Which line the point belongs to (a split, or a run and split). */
  line: string;
}

export type LossScale =
  | { kind: "linear" }
  | {
    kind: "log";
    /** The largest value drawn. */
    max: number;
  }
  | {
    kind: "clipped";
    /** The y-range drawn: that of the lines that stayed within the fence. */
    domain: [number, number];
    /** Points above domain[1], drawn as ▲ at the top edge. */
    clipped: number;
    /** The largest value clipped off. */
    max: number;
    /** The lines that have clipped points, in order of appearance. */
    lines: string[];
  };

export function lossScale(points: readonly LossPoint[]): LossScale {
  const lines = new Map<string, LossPoint[]>();
  for (const p of points) {
    const line = lines.get(p.line);
    if (line) line.push(p);
    else lines.set(p.line, [p]);
  }
  if (lines.size === 0) return { kind: "linear" };
  const firsts = [...lines.values()].map((line) => line.reduce((a, b) => (b.step < a.step ? b : a)).value);
  const lowestStart = Math.min(...firsts);
  const fence = FENCE_FACTOR * Math.max(lowestStart, Number.MIN_VALUE);
  if (points.every((p) => p.value <= fence)) return { kind: "linear" };

  const healthy = [...lines.values()].filter((line) => line.every((p) => p.value <= fence));
  if (healthy.length === 0) {
    // Every line blew up; a log axis needs positive values, and losses are (a zero would be an exact fit).
    if (points.every((p) => p.value > 0)) return { kind: "log", max: Math.max(...points.map((p) => p.value)) };
    return clipTo(points, [Math.min(...points.map((p) => p.value)), fence]);
  }
  const values = healthy.flat().map((p) => p.value);
  return clipTo(points, [Math.min(...values), Math.max(...values)]);
}

function clipTo(points: readonly LossPoint[], range: [number, number]): LossScale {
  // A little room above and below, so the healthy lines and the ▲ marks do not sit on the plot's edges.
  const pad = 0.05 * (range[1] - range[0] || Math.abs(range[1]) || 1);
  const domain: [number, number] = [range[0] - pad, range[1] + pad];
  const above = points.filter((p) => p.value > domain[1]);
  return {
    kind: "clipped",
    domain,
    clipped: above.length,
    max: Math.max(...above.map((p) => p.value)),
    lines: [...new Set(above.map((p) => p.line))],
  };
}

/**
 * The caption (HTML) that says how the axis was bent, naming the lines with `describeLines`, which returns HTML
 * (e.g. run names, escaped); undefined for a plain linear axis.
 */
export function lossScaleNote(scale: LossScale, describeLines: (lines: string[]) => string): string | undefined {
  if (scale.kind === "log") {
    return `Log-scale loss axis: every line climbs past ${FENCE_FACTOR}× the lowest starting loss (up to ${
      formatCompact(scale.max)
    }).`;
  }
  if (scale.kind === "clipped") {
    return `▲ off the chart: ${scale.clipped} point${scale.clipped === 1 ? "" : "s"} of ${describeLines(scale.lines)} above ${
      formatCompact(scale.domain[1])
    }, up to ${formatCompact(scale.max)}. The loss axis is clipped to the lines that stayed within ${FENCE_FACTOR}× the lowest starting loss.`;
  }
  return undefined;
}

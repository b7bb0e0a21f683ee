// Vega-Lite specs for every chart in the report. Each has a title, axis titles with units and a legend where
// colour carries meaning; sizes suit a half-width column and scale down on a phone (the SVG has a viewBox).
import type { TopLevelSpec } from "vega-lite";
import type { ConfusionCell } from "./confusion.ts";
import type { CurvePoint, Metric, SeriesPoint } from "./curves.ts";
import { COMPACT_FROM } from "./format.ts";
import type { LossScale } from "./loss_scale.ts";

const WIDTH = 380;
const HEIGHT = 220;
const SPLIT_COLORS = { domain: ["train", "test"], range: ["#4c78a8", "#e45756"] };

// Labels are never cut short (labelLimit 0): a tick or legend label ending in "…" hides the very number or run
// a reader looks for.
const CONFIG = {
  font: "system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif",
  title: { fontSize: 15, anchor: "start" as const, offset: 10, limit: 0 },
  axis: { labelFontSize: 12, titleFontSize: 13, gridColor: "#e6e6e6", labelLimit: 0 },
  legend: { labelFontSize: 12, titleFontSize: 13, orient: "bottom" as const, direction: "horizontal" as const, labelLimit: 0 },
  view: { stroke: null },
};

/**
 * Tick labels in the style of format.ts: from COMPACT_FROM up in scientific notation ("3.0e12", not
 * "3,000,000,000,000"), else the axis's own label.
 */
export const COMPACT_TICK_LABEL =
  `abs(datum.value) >= ${COMPACT_FROM} ? replace(format(datum.value, '.1e'), 'e+', 'e') : datum.label`;

/** Where the clip marks of a clipped loss axis sit: its top edge. */
const CLIP_MARK = { type: "point" as const, shape: "triangle-up", filled: true, size: 70, opacity: 1 };

const STEP_AXIS = { field: "step", type: "quantitative" as const, title: "training step", scale: { zero: true } };

function valueAxis(metric: Metric, title?: string, scale: LossScale = { kind: "linear" }) {
  if (metric === "accuracy") {
    return {
      field: "value",
      type: "quantitative" as const,
      title: title ?? "accuracy (%)",
      axis: { format: ".0%" },
      scale: { zero: false },
    };
  }
  const base = title ?? "cross-entropy loss";
  const axis = { labelExpr: COMPACT_TICK_LABEL };
  if (scale.kind === "log") {
    // A tick per power of ten would crowd twelve decades into the plot; about six labels read better.
    return {
      field: "value",
      type: "quantitative" as const,
      title: `${base} (log scale)`,
      axis: { ...axis, tickCount: 6 },
      scale: { type: "log" as const },
    };
  }
  if (scale.kind === "clipped") {
    return {
      field: "value",
      type: "quantitative" as const,
      title: `${base} (clipped)`,
      axis,
      scale: { domain: scale.domain, nice: false, zero: false },
    };
  }
  return { field: "value", type: "quantitative" as const, title: base, axis, scale: { zero: false } };
}

/**
 * The lines, clipped to the plot where the axis is clipped, and over them a ▲ at the top edge for every point
 * above the clip, in its line's colour.
 */
function lineLayers(line: Record<string, unknown>, scale: LossScale): object[] {
  if (scale.kind !== "clipped") return [{ mark: line }];
  const top = scale.domain[1];
  return [
    { mark: { ...line, clip: true } },
    {
      transform: [{ filter: `datum.value > ${top}` }, { calculate: `${top}`, as: "edge" }],
      mark: CLIP_MARK,
      encoding: { y: { field: "edge", type: "quantitative" } },
    },
  ];
}

/** What every line chart shares: schema, title, size, style and its data. */
function lineChartFrame(title: string, points: readonly object[]) {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: WIDTH,
    height: HEIGHT,
    config: CONFIG,
    data: { values: points as object[] },
  };
}

/** Train and test curves of one metric for one run; `scale` bends a loss axis a diverged run would flatten. */
export function runCurveSpec(points: CurvePoint[], metric: Metric, title: string, scale?: LossScale): TopLevelSpec {
  return {
    ...lineChartFrame(title, points),
    encoding: {
      x: STEP_AXIS,
      y: valueAxis(metric, undefined, scale),
      color: { field: "split", type: "nominal", title: "data", scale: SPLIT_COLORS },
    },
    layer: lineLayers({ type: "line", point: { size: 18 }, strokeWidth: 2 }, scale ?? { kind: "linear" }),
  } as TopLevelSpec;
}

/** The learning rate a schedule set, by step, for one run. */
export function learningRateSpec(points: { step: number; value: number }[], title: string): TopLevelSpec {
  return {
    ...lineChartFrame(title, points),
    mark: { type: "line", point: { size: 18 }, strokeWidth: 2, color: "#54a24b" },
    encoding: {
      x: STEP_AXIS,
      y: { field: "value", type: "quantitative", title: "learning rate", axis: { format: ".1e" }, scale: { zero: true } },
    },
  };
}

/** Several runs on shared axes, one colour per series (e.g. per learning rate); `detail` keeps seeds apart. */
export function comparisonSpec(
  points: (SeriesPoint & { run: string })[],
  metric: Metric,
  title: string,
  seriesTitle: string,
  yTitle: string,
  seriesOrder: string[],
  scale?: LossScale,
): TopLevelSpec {
  return {
    ...lineChartFrame(title, points),
    layer: lineLayers({ type: "line", strokeWidth: 2 }, scale ?? { kind: "linear" }),
    encoding: {
      x: STEP_AXIS,
      y: valueAxis(metric, yTitle, scale),
      color: {
        field: "series",
        type: "nominal",
        title: seriesTitle,
        sort: seriesOrder,
        scale: { scheme: "tableau10" },
      },
      detail: { field: "run", type: "nominal" },
    },
  } as TopLevelSpec;
}

/**
 * Final test accuracy of every run as horizontal bars, best on top. Run names sit above their bars rather than
 * on a left axis, so long names cost no plot width and the chart stays legible when scaled to a phone.
 */
export function accuracyBarsSpec(rows: { run: string; accuracy: number }[]): TopLevelSpec {
  const order = [...rows].sort((a, b) => b.accuracy - a.accuracy).map((r) => r.run);
  const y = { field: "run", type: "nominal" as const, sort: order, axis: null, title: null };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "Final test accuracy by run",
    width: 340,
    height: { step: 36 },
    config: CONFIG,
    data: { values: rows },
    encoding: {
      y,
      x: {
        field: "accuracy",
        type: "quantitative",
        title: "final test accuracy (%)",
        axis: { format: ".0%" },
        scale: { domain: [0, 1] },
      },
    },
    layer: [
      { mark: { type: "bar", color: "#4c78a8", height: { band: 0.42 }, yOffset: 7 } },
      {
        mark: { type: "text", align: "left", dx: 4, yOffset: 7, fontSize: 12 },
        encoding: { text: { field: "accuracy", type: "quantitative", format: ".1%" } },
      },
      {
        mark: { type: "text", align: "left", baseline: "bottom", yOffset: -1, fontSize: 12, color: "#333", limit: 330 },
        encoding: { x: { datum: 0 }, text: { field: "run", type: "nominal" } },
      },
    ],
  };
}

/** Confusion matrix as a heat map: colour = share of the true class, text = count. */
export function confusionSpec(cells: ConfusionCell[], classes: string[], title: string): TopLevelSpec {
  const size = 28 * classes.length;
  const axisCommon = { sort: classes, type: "nominal" as const };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: size,
    height: size,
    config: { ...CONFIG, legend: { ...CONFIG.legend, orient: "right", direction: "vertical" }, axis: { ...CONFIG.axis, grid: false } },
    data: { values: cells },
    encoding: {
      x: { ...axisCommon, field: "predicted", title: "predicted class", axis: { labelAngle: -45, orient: "top" } },
      y: { ...axisCommon, field: "actual", title: "true class" },
    },
    layer: [
      {
        mark: { type: "rect", stroke: "white", strokeWidth: 1 },
        encoding: {
          color: {
            field: "rowFraction",
            type: "quantitative",
            title: ["share of", "true class"],
            scale: { scheme: "blues", domain: [0, 1] },
            legend: { format: ".0%", gradientLength: Math.min(size, 200) },
          },
          tooltip: [
            { field: "actual", title: "true" },
            { field: "predicted", title: "predicted" },
            { field: "count", title: "images" },
          ],
        },
      },
      {
        mark: { type: "text", fontSize: 11 },
        encoding: {
          text: { field: "count", type: "quantitative" },
          color: { condition: { test: "datum.rowFraction > 0.5", value: "white" }, value: "#222" },
        },
      },
    ],
  };
}

/** Test accuracy per class as horizontal bars. */
export function perClassSpec(rows: { class: string; accuracy: number }[], title: string): TopLevelSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: 240,
    height: { step: 20 },
    config: CONFIG,
    data: { values: rows },
    mark: { type: "bar", color: "#72b7b2" },
    encoding: {
      y: { field: "class", type: "nominal", title: null, sort: null },
      x: {
        field: "accuracy",
        type: "quantitative",
        title: "test accuracy (%)",
        axis: { format: ".0%" },
        scale: { domain: [0, 1] },
      },
      tooltip: [{ field: "class" }, { field: "accuracy", format: ".1%" }],
    },
  };
}

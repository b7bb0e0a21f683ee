// Vega-Lite specs for every chart in the report. Each has a title, axis titles with units and a legend where
// colour carries meaning; sizes suit a half-width column and scale down on a phone (the SVG has a viewBox).
import type { TopLevelSpec } from "vega-lite";
import type { ConfusionCell } from "./confusion.ts";
import type { CurvePoint, Metric, SeriesPoint } from "./curves.ts";

const WIDTH = 440;
const HEIGHT = 240;
const SPLIT_COLORS = { domain: ["train", "test"], range: ["#4c78a8", "#e45756"] };

const CONFIG = {
  font: "system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif",
  title: { fontSize: 14, anchor: "start" as const, offset: 10 },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: "#e6e6e6" },
  legend: { labelFontSize: 11, titleFontSize: 12, orient: "bottom" as const, direction: "horizontal" as const },
  view: { stroke: null },
};

const STEP_AXIS = { field: "step", type: "quantitative" as const, title: "training step" };

function valueAxis(metric: Metric, title?: string) {
  return metric === "accuracy"
    ? {
      field: "value",
      type: "quantitative" as const,
      title: title ?? "accuracy (%)",
      axis: { format: ".0%" },
      scale: { zero: false },
    }
    : { field: "value", type: "quantitative" as const, title: title ?? "cross-entropy loss", scale: { zero: false } };
}

/** Train and test curves of one metric for one run. */
export function runCurveSpec(points: CurvePoint[], metric: Metric, title: string): TopLevelSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: WIDTH,
    height: HEIGHT,
    config: CONFIG,
    data: { values: points },
    mark: { type: "line", point: { size: 18 }, strokeWidth: 2 },
    encoding: {
      x: STEP_AXIS,
      y: valueAxis(metric),
      color: { field: "split", type: "nominal", title: "data", scale: SPLIT_COLORS },
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
): TopLevelSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: WIDTH,
    height: HEIGHT,
    config: CONFIG,
    data: { values: points },
    mark: { type: "line", strokeWidth: 2 },
    encoding: {
      x: STEP_AXIS,
      y: valueAxis(metric, yTitle),
      color: {
        field: "series",
        type: "nominal",
        title: seriesTitle,
        sort: seriesOrder,
        scale: { scheme: "tableau10" },
      },
      detail: { field: "run", type: "nominal" },
    },
  };
}

/** Final test accuracy of every run as horizontal bars, best on top. */
export function accuracyBarsSpec(rows: { run: string; accuracy: number }[]): TopLevelSpec {
  const order = [...rows].sort((a, b) => b.accuracy - a.accuracy).map((r) => r.run);
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "Final test accuracy by run",
    width: WIDTH,
    height: { step: 22 },
    config: CONFIG,
    data: { values: rows },
    layer: [
      {
        mark: { type: "bar", color: "#4c78a8" },
        encoding: {
          y: { field: "run", type: "nominal", title: null, sort: order, axis: { labelLimit: 180 } },
          x: {
            field: "accuracy",
            type: "quantitative",
            title: "final test accuracy (%)",
            axis: { format: ".0%" },
            scale: { domain: [0, 1] },
          },
        },
      },
      {
        mark: { type: "text", align: "left", dx: 4, fontSize: 11 },
        encoding: {
          y: { field: "run", type: "nominal", sort: order },
          x: { field: "accuracy", type: "quantitative" },
          text: { field: "accuracy", type: "quantitative", format: ".1%" },
        },
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
        mark: { type: "text", fontSize: 10 },
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
    width: 260,
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

import { describe, expect, it } from "vitest";
import { curve, learningRateCurve, seriesCurves } from "../src/curves.ts";
import type { MetricRow } from "../src/types.ts";

const rows: MetricRow[] = [
  { step: 100, train_loss: 2.0, test_loss: 2.1, train_accuracy: 0.2, test_accuracy: 0.19 },
  { step: 200, train_loss: 1.8, train_accuracy: 0.3 },
  { step: 300, train_loss: 1.7, test_loss: 1.9, test_accuracy: 0.35 },
];

describe("curve", () => {
  it("makes train and test points of one metric, leaving out missing figures", () => {
    expect(curve(rows, "loss")).toEqual([
      { step: 100, split: "train", value: 2.0 },
      { step: 200, split: "train", value: 1.8 },
      { step: 300, split: "train", value: 1.7 },
      { step: 100, split: "test", value: 2.1 },
      { step: 300, split: "test", value: 1.9 },
    ]);
    expect(curve(rows, "accuracy").filter((p) => p.split === "test").map((p) => p.step)).toEqual([100, 300]);
  });

  it("is empty for no rows", () => {
    expect(curve([], "accuracy")).toEqual([]);
  });
});

describe("seriesCurves", () => {
  it("labels each run's points with its series", () => {
    const runs = [{ name: "a", metrics: rows }, { name: "b", metrics: rows.slice(0, 1) }];
    const points = seriesCurves(runs, "test_accuracy", (r) => r.name);
    expect(points).toEqual([
      { step: 100, series: "a", value: 0.19 },
      { step: 300, series: "a", value: 0.35 },
      { step: 100, series: "b", value: 0.19 },
    ]);
  });
});

describe("learningRateCurve", () => {
  it("gives the recorded rates when a schedule changed them, nothing when the rate stayed put or was not recorded", () => {
    expect(learningRateCurve([{ step: 10, learning_rate: 1e-3 }, { step: 20, learning_rate: 5e-4 }])).toEqual([
      { step: 10, value: 1e-3 },
      { step: 20, value: 5e-4 },
    ]);
    expect(learningRateCurve([{ step: 10, learning_rate: 1e-3 }, { step: 20, learning_rate: 1e-3 }])).toEqual([]);
    expect(learningRateCurve([{ step: 10 }, { step: 20 }])).toEqual([]);
  });
});

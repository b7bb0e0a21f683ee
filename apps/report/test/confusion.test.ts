import { describe, expect, it } from "vitest";
import { confusionCells, overallAccuracy, perClassAccuracy } from "../src/confusion.ts";

const classes = ["cat", "dog", "ship"];
const confusion = [
  [8, 2, 0], // true cat
  [1, 3, 0], // true dog
  [0, 0, 0], // no ships in the test set
];

describe("confusion matrix shaping", () => {
  it("makes one cell per (true, predicted) pair with row shares", () => {
    const cells = confusionCells({ classes, confusion });
    expect(cells).toHaveLength(9);
    expect(cells[0]).toEqual({ actual: "cat", predicted: "cat", count: 8, rowFraction: 0.8 });
    expect(cells[1]).toEqual({ actual: "cat", predicted: "dog", count: 2, rowFraction: 0.2 });
    expect(cells[3]).toEqual({ actual: "dog", predicted: "cat", count: 1, rowFraction: 0.25 });
    // An empty row gives shares of 0, not NaN.
    expect(cells.slice(6).every((c) => c.rowFraction === 0)).toBe(true);
  });

  it("computes per-class and overall accuracy from rows = true class", () => {
    expect(perClassAccuracy(confusion)).toEqual([0.8, 0.75, 0]);
    expect(overallAccuracy(confusion)).toBeCloseTo(11 / 14);
    expect(overallAccuracy([[0]])).toBeUndefined();
  });
});

// Shapes a confusion matrix (row = true class, column = predicted) into heat-map cells.
import type { Predictions } from "./types.ts";

export interface ConfusionCell {
  actual: string;
  predicted: string;
  count: number;
  /** count / (images of the true class): the share of that class that went to `predicted`. */
  rowFraction: number;
}

export function confusionCells(predictions: Pick<Predictions, "classes" | "confusion">): ConfusionCell[] {
  const { classes, confusion } = predictions;
  const cells: ConfusionCell[] = [];
  confusion.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    row.forEach((count, j) => {
      cells.push({ actual: classes[i], predicted: classes[j], count, rowFraction: total > 0 ? count / total : 0 });
    });
  });
  return cells;
}

/** Accuracy per true class (diagonal over row sum), computed from the matrix itself. */
export function perClassAccuracy(confusion: readonly (readonly number[])[]): number[] {
  return confusion.map((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    return total > 0 ? row[i] / total : 0;
  });
}

/** Overall accuracy: trace over total. */
export function overallAccuracy(confusion: readonly (readonly number[])[]): number | undefined {
  let correct = 0;
  let total = 0;
  confusion.forEach((row, i) => {
    correct += row[i];
    total += row.reduce((a, b) => a + b, 0);
  });
  return total > 0 ? correct / total : undefined;
}

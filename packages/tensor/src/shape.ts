import { fmtShape, ShapeError, ValueError } from "./errors.ts";

/** Sizes of the dimensions of an array, outermost first. */
export type Shape = readonly number[];

/** Number of elements of an array of `shape` (1 for `[]`). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * An array of `n` copies of `value`, by push: on these short arrays, V8's Array.prototype.fill and unshift are calls
 * into its C++ runtime that cost more than the rest of a small op's bookkeeping (packages/tensor/bench/small_ops.ts).
 */
export function filled(n: number, value: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(value);
  return out;
}

/** Row-major strides, in elements. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/** True when (shape, strides) lays the elements out row-major without gaps. Size-1 dims may have any stride. */
export function isContiguous(shape: Shape, strides: readonly number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i]!;
    if (d === 0) return true;
    if (d !== 1 && strides[i] !== expected) return false;
    expected *= d;
  }
  return true;
}

export function checkShape(op: string, shape: Shape): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new ValueError(`${op}: shape ${fmtShape(shape)} must hold non-negative integers`);
    }
  }
}

/** NumPy/PyTorch broadcasting of any number of shapes. */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  let rank = 0;
  for (const s of shapes) if (s.length > rank) rank = s.length;
  const out = filled(rank, 1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const j = rank - s.length + i;
      const d = s[i]!;
      if (out[j] === 1) out[j] = d;
      else if (d !== 1 && d !== out[j]) {
        throw new ShapeError(
          `${op}: shapes ${shapes.map(fmtShape).join(" and ")} cannot be broadcast together ` +
            `(dimension ${j - rank} is ${out[j]} in one and ${d} in another)`,
        );
      }
    }
  }
  return out;
}

/** Resolves a possibly negative axis against `rank`, with an error naming the op. */
export function normalizeAxis(op: string, axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= Math.max(rank, 1)) {
    throw new ValueError(
      `${op}: axis ${axis} is out of range for an array of rank ${rank} (expected ${-rank}..${rank - 1})`,
    );
  }
  return axis < 0 ? axis + rank : axis;
}

/** Resolves a list of axes (undefined = all), sorted, rejecting repeats. */
export function normalizeAxes(op: string, axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === "number" ? [axes] : axes;
  const out = list.map((a) => normalizeAxis(op, a, rank));
  const sorted = [...out].sort((a, b) => a - b);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] === sorted[i - 1]) throw new ValueError(`${op}: axis ${sorted[i]} is repeated in ${fmtShape(list)}`);
  }
  return sorted;
}

/**
 * Axes of a reduction. A 0-d array has nothing to reduce but accepts axis 0 and -1, as PyTorch does, so
 * `x.sum(-1)` and `softmax(x, -1)` work on scalars too.
 */
export function reductionAxes(op: string, axes: number | readonly number[] | undefined, rank: number): number[] {
  if (rank > 0 || axes === undefined) return normalizeAxes(op, axes, rank);
  for (const a of typeof axes === "number" ? [axes] : axes) {
    if (a !== 0 && a !== -1) {
      throw new ValueError(`${op}: axis ${a} is out of range for an array of rank 0 (expected -1 or 0)`);
    }
  }
  return [];
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

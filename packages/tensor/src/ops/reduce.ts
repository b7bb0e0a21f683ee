import type { ArgReduceOp, ReduceOp, StridedView } from "../backend.ts";
import { fmtShape, ShapeError } from "../errors.ts";
import { NDArray } from "../ndarray.ts";
import { normalizeAxis, reductionAxes } from "../shape.ts";
import { sameDevice } from "./operands.ts";
import { div, mul, sub } from "./elementwise.ts";

/** Dimensions to reduce: one, several (negative counts from the end), or all when undefined. */
export type Dims = number | readonly number[] | undefined;

/**
 * `x` viewed with the kept dimensions first and the reduced ones last (a permutation of its strides, no copy):
 * the backend reduces it as [outer, reduceSize] rows, reading the elements in place.
 */
function asRows(op: string, x: NDArray, dim: Dims) {
  sameDevice(op, x);
  const axes = reductionAxes(op, dim, x.ndim);
  const reduced = new Set(axes);
  const kept = x.shape.map((_, i) => i).filter((i) => !reduced.has(i));
  const order = [...kept, ...axes];
  const rows: StridedView = {
    storage: x.storage,
    shape: order.map((i) => x.shape[i]!),
    strides: order.map((i) => x.strides[i]!),
    offset: x.offset,
  };
  const outer = kept.reduce((a, i) => a * x.shape[i]!, 1);
  const reduceSize = axes.reduce((a, i) => a * x.shape[i]!, 1);
  const keptShape = kept.map((i) => x.shape[i]!);
  const keepShape = x.shape.map((d, i) => (reduced.has(i) ? 1 : d));
  return { rows, outer, reduceSize, keptShape, keepShape };
}

function reduce(op: ReduceOp, x: NDArray, dim: Dims, keepdim: boolean): NDArray {
  const input = x.dtype === "bool" ? x.cast("int32") : x;
  const r = asRows(op, input, dim);
  try {
    if (r.reduceSize === 0 && (op === "max" || op === "min")) {
      throw new ShapeError(`${op}: cannot reduce over a zero-size dimension (shape ${fmtShape(x.shape)})`);
    }
    const out = x.backend.reduce(op, r.rows, r.outer, r.reduceSize);
    return new NDArray(out, keepdim ? r.keepShape : r.keptShape);
  } finally {
    if (input !== x) input.dispose();
  }
}

/** Sum over `dim` (all dimensions when omitted). Bool sums count as int32. */
export const sum = (x: NDArray, dim?: Dims, keepdim = false): NDArray => reduce("sum", x, dim, keepdim);
/** Product over `dim` (all dimensions when omitted); 1 over empty dimensions. */
export const prod = (x: NDArray, dim?: Dims, keepdim = false): NDArray => reduce("prod", x, dim, keepdim);
/** Maximum over `dim` (all dimensions when omitted); NaN propagates. */
export const max = (x: NDArray, dim?: Dims, keepdim = false): NDArray => reduce("max", x, dim, keepdim);
/** Minimum over `dim` (all dimensions when omitted); NaN propagates. */
export const min = (x: NDArray, dim?: Dims, keepdim = false): NDArray => reduce("min", x, dim, keepdim);

/** Mean over `dim`; integer and bool arrays are averaged in float32. */
export function mean(x: NDArray, dim?: Dims, keepdim = false): NDArray {
  const input = x.dtype === "float32" || x.dtype === "float64" ? x : x.cast("float32");
  const count = reductionAxes("mean", dim, x.ndim).reduce((a, i) => a * x.shape[i]!, 1);
  const s = sum(input, dim, keepdim);
  const out = div(s, count);
  s.dispose();
  if (input !== x) input.dispose();
  return out;
}

/** Variance with Bessel's correction by default (`correction: 1`), as `torch.var`. */
export function variance(x: NDArray, dim?: Dims, options: { correction?: number; keepdim?: boolean } = {}): NDArray {
  const { correction = 1, keepdim = false } = options;
  const count = reductionAxes("var", dim, x.ndim).reduce((a, i) => a * x.shape[i]!, 1);
  const m = mean(x, dim, true);
  const d = sub(x, m);
  const sq = mul(d, d);
  const s = sum(sq, dim, keepdim);
  const out = div(s, Math.max(0, count - correction));
  for (const t of [m, d, sq, s]) t.dispose();
  return out;
}

function argReduce(op: ArgReduceOp, x: NDArray, dim: number | undefined, keepdim: boolean): NDArray {
  // Without a dimension, every one is reduced: the rows are the flattened array, read in place.
  const axes = dim === undefined || x.ndim === 0 ? reductionAxes(op, dim, x.ndim) : [normalizeAxis(op, dim, x.ndim)];
  const r = asRows(op, x, axes);
  if (r.reduceSize === 0) {
    throw new ShapeError(`${op}: cannot reduce over a zero-size dimension (shape ${fmtShape(x.shape)})`);
  }
  return new NDArray(x.backend.argReduce(op, r.rows, r.outer, r.reduceSize), keepdim ? r.keepShape : r.keptShape);
}

/** Index of the largest value along `dim` (of the flattened array when omitted); first one on ties. */
export const argmax = (x: NDArray, dim?: number, keepdim = false): NDArray => argReduce("argmax", x, dim, keepdim);
/** Index of the smallest value along `dim` (of the flattened array when omitted); first one on ties. */
export const argmin = (x: NDArray, dim?: number, keepdim = false): NDArray => argReduce("argmin", x, dim, keepdim);

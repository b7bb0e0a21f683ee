import type { StridedView } from "../backend.ts";
import type { DType } from "../dtype.ts";
import { DTypeError, fmtShape, ShapeError, ValueError } from "../errors.ts";
import { NDArray } from "../ndarray.ts";
import { normalizeAxis } from "../shape.ts";
import { add, eq } from "./elementwise.ts";
import { sameDevice } from "./operands.ts";
import { arange } from "./creation.ts";

function requireIndex(op: string, index: NDArray): void {
  if (index.dtype !== "int32") {
    throw new DTypeError(`${op}: the index must be an int32 array, got ${index.dtype} of shape ${fmtShape(index.shape)}`);
  }
}

/**
 * A 1-D index seen as an index of `shape` along `d`: stride 0 everywhere else, so every position along the
 * other dimensions reads the same entries (indexSelect/indexAdd are gather/scatterAdd with this view).
 */
function broadcastIndex(index: NDArray, shape: readonly number[], d: number): StridedView {
  const strides = shape.map((_, k) => (k === d ? index.strides[0]! : 0));
  return { storage: index.storage, shape, strides, offset: index.offset };
}

/** `src` in `dtype` (itself when it already is), and a function that disposes what was made. */
function inDtype(src: NDArray, dtype: DType): { view: NDArray; done: () => void } {
  if (src.dtype === dtype) return { view: src, done: () => {} };
  const view = src.cast(dtype);
  return { view, done: () => view.dispose() };
}

/** `out[i][j][k] = x[i][index[i][j][k]][k]` for `dim = 1` (and likewise for any dim), as `torch.gather`. */
export function gather(x: NDArray, dim: number, index: NDArray): NDArray {
  sameDevice("gather", x, index);
  requireIndex("gather", index);
  const d = normalizeAxis("gather", dim, x.ndim);
  if (index.ndim !== x.ndim || index.shape.some((s, i) => i !== d && s !== x.shape[i])) {
    throw new ShapeError(
      `gather: the index ${fmtShape(index.shape)} must match the input ${fmtShape(x.shape)} in every dimension but ${dim}`,
    );
  }
  return new NDArray(x.backend.gather(x, index, { dim: d, axisSize: x.shape[d]! }), index.shape);
}

/**
 * Adds `src` into a copy of `input` at the positions `index` names along `dim` (as `torch.scatter_add`):
 * `out[i][index[i][j][k]][k] += src[i][j][k]` for `dim = 1`. Repeated indices accumulate.
 */
export function scatterAdd(input: NDArray, dim: number, index: NDArray, src: NDArray): NDArray {
  sameDevice("scatterAdd", input, index, src);
  requireIndex("scatterAdd", index);
  const d = normalizeAxis("scatterAdd", dim, input.ndim);
  if (
    index.ndim !== input.ndim || src.ndim !== input.ndim ||
    index.shape.some((s, i) => s !== src.shape[i] || (i !== d && s !== input.shape[i]))
  ) {
    throw new ShapeError(
      `scatterAdd: index ${fmtShape(index.shape)} and src ${fmtShape(src.shape)} must be equal, and match ` +
        `input ${fmtShape(input.shape)} in every dimension but ${dim}`,
    );
  }
  const s = inDtype(src, input.dtype);
  const scattered = new NDArray(input.backend.scatterAdd(s.view, index, { dim: d, axisSize: input.shape[d]! }), input.shape);
  s.done();
  const out = add(input, scattered);
  scattered.dispose();
  return out;
}

/** The entries `index` (1-D) names along `dim`, in that order (as `torch.index_select`). */
export function indexSelect(x: NDArray, dim: number, index: NDArray): NDArray {
  sameDevice("indexSelect", x, index);
  requireIndex("indexSelect", index);
  if (index.ndim !== 1) throw new ShapeError(`indexSelect: the index must be 1-D, got shape ${fmtShape(index.shape)}`);
  const d = normalizeAxis("indexSelect", dim, x.ndim);
  const shape = [...x.shape];
  shape[d] = index.shape[0]!;
  const p = { dim: d, axisSize: x.shape[d]!, name: "indexSelect" as const };
  return new NDArray(x.backend.gather(x, broadcastIndex(index, shape, d), p), shape);
}

/** Adds the slices of `src` into a copy of `input` at the positions `index` (1-D) names along `dim`. */
export function indexAdd(input: NDArray, dim: number, index: NDArray, src: NDArray): NDArray {
  sameDevice("indexAdd", input, index, src);
  requireIndex("indexAdd", index);
  const d = normalizeAxis("indexAdd", dim, input.ndim);
  if (index.ndim !== 1 || src.ndim !== input.ndim || src.shape.some((s, i) => s !== (i === d ? index.shape[0] : input.shape[i]))) {
    throw new ShapeError(
      `indexAdd: src ${fmtShape(src.shape)} must match input ${fmtShape(input.shape)} except along ${dim}, ` +
        `where it must have the index's length (index ${fmtShape(index.shape)})`,
    );
  }
  const s = inDtype(src, input.dtype);
  const p = { dim: d, axisSize: input.shape[d]!, name: "indexAdd" as const };
  const added = new NDArray(input.backend.scatterAdd(s.view, broadcastIndex(index, src.shape, d), p), input.shape);
  s.done();
  const out = add(input, added);
  added.dispose();
  return out;
}

/** One-hot encoding of int32 class indices: shape [...labels.shape, numClasses]. */
export function oneHot(labels: NDArray, numClasses: number, options: { dtype?: DType } = {}): NDArray {
  requireIndex("oneHot", labels);
  if (!Number.isInteger(numClasses) || numClasses <= 0) {
    throw new ValueError(`oneHot: numClasses must be a positive integer, got ${numClasses}`);
  }
  const classes = arange(numClasses, undefined, undefined, { dtype: "int32", device: labels.device });
  const col = labels.unsqueeze(-1);
  const hot = eq(col, classes);
  classes.dispose();
  col.dispose();
  const dtype = options.dtype ?? "int32";
  if (dtype === "bool") return hot;
  const out = hot.cast(dtype);
  hot.dispose();
  return out;
}

import { promoteTypes } from "../dtype.ts";
import { fmtShape, ShapeError, ValueError } from "../errors.ts";
import { NDArray } from "../ndarray.ts";
import { normalizeAxis } from "../shape.ts";
import { sameDevice } from "./operands.ts";

/** Joins arrays along an existing dimension (as `torch.cat`); dtypes promote. */
export function concat(xs: readonly NDArray[], dim = 0): NDArray {
  if (xs.length === 0) throw new ValueError("concat: needs at least one array");
  sameDevice("concat", ...xs);
  const first = xs[0]!;
  if (first.ndim === 0) throw new ShapeError("concat: 0-d arrays (shape []) have no dimension to join along; use stack");
  const d = normalizeAxis("concat", dim, first.ndim);
  for (const x of xs) {
    if (x.ndim !== first.ndim || x.shape.some((s, i) => i !== d && s !== first.shape[i])) {
      throw new ShapeError(
        `concat: shapes ${xs.map((y) => fmtShape(y.shape)).join(", ")} differ outside dimension ${dim}`,
      );
    }
  }
  const dtype = xs.map((x) => x.dtype).reduce(promoteTypes);
  const shape = [...first.shape];
  shape[d] = xs.reduce((a, x) => a + x.shape[d]!, 0);
  const out = new NDArray(first.backend.alloc(dtype, shape.reduce((a, b) => a * b, 1)), shape);
  let at = 0;
  for (const x of xs) {
    const len = x.shape[d]!;
    if (len > 0) {
      const window = out.narrow(d, at, len);
      first.backend.copy(x, window);
      window.dispose();
    }
    at += len;
  }
  return out;
}

/** Joins same-shaped arrays along a new dimension (as `torch.stack`). */
export function stack(xs: readonly NDArray[], dim = 0): NDArray {
  if (xs.length === 0) throw new ValueError("stack: needs at least one array");
  const first = xs[0]!;
  for (const x of xs) {
    if (x.ndim !== first.ndim || x.shape.some((s, i) => s !== first.shape[i])) {
      throw new ShapeError(`stack: every array must have the same shape, got ${xs.map((y) => fmtShape(y.shape)).join(", ")}`);
    }
  }
  const d = normalizeAxis("stack", dim, first.ndim + 1);
  const views = xs.map((x) => x.unsqueeze(d));
  const out = concat(views, d);
  for (const v of views) v.dispose();
  return out;
}

/** Splits into views of `size` along `dim` (the last may be smaller), or into the given sizes. */
export function split(x: NDArray, sizes: number | readonly number[], dim = 0): NDArray[] {
  const d = normalizeAxis("split", dim, x.ndim);
  const n = x.shape[d]!;
  let parts: number[];
  if (typeof sizes === "number") {
    if (!Number.isInteger(sizes) || sizes <= 0) throw new ValueError(`split: size must be a positive integer, got ${sizes}`);
    parts = [];
    for (let at = 0; at < n; at += sizes) parts.push(Math.min(sizes, n - at));
  } else {
    parts = [...sizes];
    if (parts.reduce((a, b) => a + b, 0) !== n) {
      throw new ShapeError(`split: sizes ${fmtShape(parts)} do not add up to dimension ${dim} of size ${n}`);
    }
  }
  let at = 0;
  return parts.map((len) => {
    const v = x.narrow(d, at, len);
    at += len;
    return v;
  });
}

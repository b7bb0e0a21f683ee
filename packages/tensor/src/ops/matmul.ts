import { DTypeError, fmtShape, ShapeError } from "../errors.ts";
import { promoteTypes } from "../dtype.ts";
import { NDArray } from "../ndarray.ts";
import { broadcastShapes } from "../shape.ts";
import { sameDevice } from "./operands.ts";

/**
 * Matrix product with PyTorch's rules: 1-D operands are promoted to a row (left) or a column (right) and the
 * added dimension is removed afterwards; leading (batch) dimensions broadcast. The kernel sees strided
 * [B, M, K] × [B, K, N] views, so transposed and broadcast operands are not copied.
 */
export function matmul(a: NDArray, b: NDArray): NDArray {
  sameDevice("matmul", a, b);
  if (a.ndim === 0 || b.ndim === 0) {
    throw new ShapeError(`matmul: both operands need at least one dimension, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  if (a.dtype === "bool" || b.dtype === "bool") throw new DTypeError(`matmul: bool arrays are not supported`);
  const dtype = promoteTypes(a.dtype, b.dtype);
  const owned: NDArray[] = [];
  const own = (x: NDArray) => (owned.push(x), x);
  try {
    let A = a.dtype === dtype ? a : own(a.cast(dtype));
    let B = b.dtype === dtype ? b : own(b.cast(dtype));
    const aVec = A.ndim === 1, bVec = B.ndim === 1;
    if (aVec) A = own(A.unsqueeze(0));
    if (bVec) B = own(B.unsqueeze(1));
    const [m, k] = A.shape.slice(-2) as [number, number];
    const [k2, n] = B.shape.slice(-2) as [number, number];
    if (k !== k2) {
      throw new ShapeError(
        `matmul: inner sizes differ: ${fmtShape(a.shape)} @ ${fmtShape(b.shape)} (${k} vs ${k2})`,
      );
    }
    const batch = broadcastShapes("matmul", A.shape.slice(0, -2), B.shape.slice(0, -2));
    const batchSize = batch.reduce((x, y) => x * y, 1);
    const A3 = own(own(A.expand([...batch, m, k])).reshape([batchSize, m, k]));
    const B3 = own(own(B.expand([...batch, k, n])).reshape([batchSize, k, n]));
    const out = new NDArray(A3.backend.matmul(A3, B3, dtype), [...batch, m, n]);
    if (!aVec && !bVec) return out;
    const shape = [...batch, ...(aVec ? [] : [m]), ...(bVec ? [] : [n])];
    const r = out.reshape(shape);
    out.dispose();
    return r;
  } finally {
    for (const x of owned) x.dispose();
  }
}

import { DTypeError, fmtShape, ShapeError } from "../errors.ts";
import { type DType, isFloat, promoteTypes } from "../dtype.ts";
import { NDArray } from "../ndarray.ts";
import { broadcastShapes } from "../shape.ts";
import { add, relu as reluOp } from "./elementwise.ts";
import { sameDevice } from "./operands.ts";

/**
 * Matrix product with PyTorch's rules: 1-D operands are promoted to a row (left) or a column (right) and the
 * added dimension is removed afterwards; leading (batch) dimensions broadcast. The kernel sees strided
 * [B, M, K] × [B, K, N] views, so transposed and broadcast operands are not copied.
 */
export function matmul(a: NDArray, b: NDArray): NDArray {
  return product("matmul", a, b);
}

/** Options of `matmulBias`. */
export interface MatmulBiasOptions {
  /** Apply ReLU to the sum (default false). */
  relu?: boolean;
}

/**
 * `matmul(a, b) + bias`, then ReLU with `{ relu: true }` — a linear layer's forward pass. On a backend with a
 * GEMM epilogue (the CPU) the bias and ReLU are applied as the product's tiles are stored, instead of two more
 * passes over the output; elsewhere, or when the operands do not fit that form (1-D operands, a bias that is not
 * the [N] row of the product's dtype), it runs the composed ops. Either way the values are those of
 * `relu(add(matmul(a, b), bias))`.
 */
export function matmulBias(a: NDArray, b: NDArray, bias: NDArray, options: MatmulBiasOptions = {}): NDArray {
  sameDevice("matmulBias", a, b, bias);
  const relu = options.relu ?? false;
  const backend = a.backend;
  const dtype = a.dtype === "bool" || b.dtype === "bool" ? undefined : promoteTypes(a.dtype, b.dtype);
  const n = b.ndim >= 2 ? b.shape[b.ndim - 1] : undefined;
  const fits = backend.matmulBias !== undefined && dtype !== undefined && isFloat(dtype) && a.ndim >= 2 &&
    n !== undefined && bias.ndim === 1 && bias.shape[0] === n && bias.dtype !== "bool" &&
    promoteTypes(dtype, bias.dtype) === dtype;
  if (fits) return product("matmulBias", a, b, { bias, relu });
  const p = matmul(a, b);
  try {
    const y = add(p, bias);
    if (!relu) return y;
    const r = reluOp(y);
    y.dispose();
    return r;
  } finally {
    p.dispose();
  }
}

/** The shared body of matmul and matmulBias (whose bias the caller checked: [N], castable to the dtype). */
function product(op: string, a: NDArray, b: NDArray, epilogue?: { bias: NDArray; relu: boolean }): NDArray {
  sameDevice(op, a, b);
  if (a.ndim === 0 || b.ndim === 0) {
    throw new ShapeError(`${op}: both operands need at least one dimension, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  if (a.dtype === "bool" || b.dtype === "bool") throw new DTypeError(`${op}: bool arrays are not supported`);
  const dtype: DType = promoteTypes(a.dtype, b.dtype);
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
        `${op}: inner sizes differ: ${fmtShape(a.shape)} @ ${fmtShape(b.shape)} (${k} vs ${k2})`,
      );
    }
    const batch = broadcastShapes(op, A.shape.slice(0, -2), B.shape.slice(0, -2));
    const batchSize = batch.reduce((x, y) => x * y, 1);
    const A3 = own(own(A.expand([...batch, m, k])).reshape([batchSize, m, k]));
    const B3 = own(own(B.expand([...batch, k, n])).reshape([batchSize, k, n]));
    let storage;
    if (epilogue) {
      const bias = epilogue.bias.dtype === dtype ? epilogue.bias : own(epilogue.bias.cast(dtype));
      storage = A3.backend.matmulBias!(A3, B3, bias, epilogue.relu, dtype);
    } else storage = A3.backend.matmul(A3, B3, dtype);
    const out = new NDArray(storage, [...batch, m, n]);
    if (!aVec && !bVec) return out;
    const shape = [...batch, ...(aVec ? [] : [m]), ...(bVec ? [] : [n])];
    const r = out.reshape(shape);
    out.dispose();
    return r;
  } finally {
    for (const x of owned) x.dispose();
  }
}

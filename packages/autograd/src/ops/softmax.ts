import * as T from "@backprop/tensor";
import { record } from "../record.ts";
import type { Tensor } from "../tensor.ts";

const g = T.E.input(0), y = T.E.input(1), s = T.E.input(2);
/** s ⊙ (g − Σ g ⊙ s), with the sum as input 2. */
const SOFTMAX_GRAD = [T.E.mul(y, T.E.sub(g, s))];
/** g − exp(y) ⊙ Σ g, with the sum as input 2. */
const LOG_SOFTMAX_GRAD = [T.E.sub(g, T.E.mul(T.E.exp(y), s))];

/**
 * The backward's elementwise tail as one fused pass after its reduction; the expressions are the op-by-op
 * chain's own, so float64 results are identical and float32 ones within the kernels' rounding.
 */
function fusedTail(exprs: T.Expr[], grad: T.NDArray, out: T.NDArray, sum: T.NDArray): T.NDArray | undefined {
  const dtype = out.dtype;
  if (grad.dtype !== dtype || sum.dtype !== dtype || (dtype !== "float32" && dtype !== "float64")) return undefined;
  return T.fused(exprs, [grad, out, sum])[0];
}

/** Softmax along `dim`; backward: s ⊙ (g − Σ g ⊙ s). */
export function softmax(x: Tensor, dim = -1): Tensor {
  const out = T.softmax(x.value, dim);
  return record("softmax", [x], out, (grad) => {
    const dot = grad.mul(out).sum(dim, true);
    return [fusedTail(SOFTMAX_GRAD, grad, out, dot) ?? out.mul(grad.sub(dot))];
  });
}

/** log-softmax along `dim`; backward: g − softmax ⊙ Σ g. */
export function logSoftmax(x: Tensor, dim = -1): Tensor {
  const out = T.logSoftmax(x.value, dim);
  return record("logSoftmax", [x], out, (grad) => {
    const sum = grad.sum(dim, true);
    return [fusedTail(LOG_SOFTMAX_GRAD, grad, out, sum) ?? grad.sub(out.exp().mul(sum))];
  });
}

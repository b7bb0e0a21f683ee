import * as T from "@backprop/tensor";
import { record } from "../record.ts";
import type { Tensor } from "../tensor.ts";

/** Softmax along `dim`; backward: s ⊙ (g − Σ g ⊙ s). */
export function softmax(x: Tensor, dim = -1): Tensor {
  const out = T.softmax(x.value, dim);
  return record("softmax", [x], out, (g) => {
    const dot = g.mul(out).sum(dim, true);
    return [out.mul(g.sub(dot))];
  });
}

/** log-softmax along `dim`; backward: g − softmax ⊙ Σ g. */
export function logSoftmax(x: Tensor, dim = -1): Tensor {
  const out = T.logSoftmax(x.value, dim);
  return record("logSoftmax", [x], out, (g) => [g.sub(out.exp().mul(g.sum(dim, true)))]);
}

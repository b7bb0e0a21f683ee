import { NDArray } from "../ndarray.ts";
import { normalizeAxis } from "../shape.ts";
import { exp, log, sub, div } from "./elementwise.ts";
import { requireFloat } from "./operands.ts";
import { max, sum } from "./reduce.ts";

/** Softmax along `dim`, computed as exp(x − max) / Σ exp(x − max) so large logits cannot overflow. */
export function softmax(x: NDArray, dim = -1): NDArray {
  requireFloat("softmax", x);
  const d = normalizeAxis("softmax", dim, x.ndim);
  const m = max(x, d, true);
  const shifted = sub(x, m);
  const e = exp(shifted);
  const s = sum(e, d, true);
  const out = div(e, s);
  for (const t of [m, shifted, e, s]) t.dispose();
  return out;
}

/** log(softmax(x)) along `dim`, as (x − max) − log Σ exp(x − max): accurate where softmax underflows to 0. */
export function logSoftmax(x: NDArray, dim = -1): NDArray {
  requireFloat("logSoftmax", x);
  const d = normalizeAxis("logSoftmax", dim, x.ndim);
  const m = max(x, d, true);
  const shifted = sub(x, m);
  const e = exp(shifted);
  const s = sum(e, d, true);
  const lse = log(s);
  const out = sub(shifted, lse);
  for (const t of [m, shifted, e, s, lse]) t.dispose();
  return out;
}

/** log Σ exp(x) along `dim`, stably. */
export function logSumExp(x: NDArray, dim: number | readonly number[] = -1, keepdim = false): NDArray {
  requireFloat("logSumExp", x);
  const m = max(x, dim, true);
  const shifted = sub(x, m);
  const e = exp(shifted);
  const s = sum(e, dim, true);
  const l = log(s);
  const withMax = l.add(m);
  const out = keepdim ? withMax : withMax.squeeze(typeof dim === "number" ? [dim] : dim);
  for (const t of [m, shifted, e, s, l]) t.dispose();
  if (out !== withMax) withMax.dispose();
  return out;
}

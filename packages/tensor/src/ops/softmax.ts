import type { NDArray } from "../ndarray.ts";
import { normalizeAxis, reductionAxes } from "../shape.ts";
import { div, exp, log, sub, where } from "./elementwise.ts";
import { requireFloat } from "./operands.ts";
import { max, sum } from "./reduce.ts";

/** The axis softmax normalises along; a 0-d array is its own (single-element) row. */
function softmaxAxis(op: string, x: NDArray, dim: number): number {
  if (x.ndim > 0) return normalizeAxis(op, dim, x.ndim);
  reductionAxes(op, dim, 0); // accepts only 0 and -1
  return 0;
}

/** Softmax along `dim`, computed as exp(x − max) / Σ exp(x − max) so large logits cannot overflow. */
export function softmax(x: NDArray, dim = -1): NDArray {
  requireFloat("softmax", x);
  const d = softmaxAxis("softmax", x, dim);
  // Nothing to normalise (and no maximum to shift by) in an empty array.
  if (x.size === 0) return x.clone();
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
  const d = softmaxAxis("logSoftmax", x, dim);
  if (x.size === 0) return x.clone();
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
  const rawMax = max(x, dim, true);
  // A row of −∞ has log Σ exp = −∞; shifting it by its own max would give (−∞) − (−∞) = NaN, so shift by 0 there.
  const infinite = rawMax.abs().eq(Infinity);
  const m = where(infinite, 0, rawMax);
  infinite.dispose();
  rawMax.dispose();
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

import * as T from "@backprop/tensor";
import type { NDArray } from "@backprop/tensor";
import { record } from "../record.ts";
import { Tensor } from "../tensor.ts";
import { div, mul, sub } from "./elementwise.ts";

/** Dimensions to reduce over: one (negative counts from the end) or several. */
export type Dims = number | readonly number[];

/** Shape of the reduction result with keepdim, used to broadcast a gradient back over the reduced axes. */
function keptShape(x: Tensor, dim: Dims | undefined): number[] {
  const rank = x.ndim;
  const axes = dim === undefined ? x.shape.map((_, i) => i) : (typeof dim === "number" ? [dim] : [...dim]).map((a) => (a < 0 ? a + rank : a));
  return x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/** Spreads a gradient of the reduced result over the input's shape. */
function spread(g: NDArray, x: Tensor, dim: Dims | undefined): NDArray {
  return g.reshape(keptShape(x, dim)).expand(x.shape);
}

/** Sum over `dim` (all dimensions when omitted); the gradient is broadcast back over the reduced dimensions. */
export function sum(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  return record("sum", [x], T.sum(x.value, dim, keepdim), (g) => [spread(g, x, dim)]);
}

/** Mean over `dim` (all dimensions when omitted); the gradient is spread evenly. */
export function mean(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  const n = x.size / Math.max(1, keptShape(x, dim).reduce((a, b) => a * b, 1));
  return record("mean", [x], T.mean(x.value, dim, keepdim), (g) => [spread(g, x, dim).div(n)]);
}

/** Product; its gradient out / x needs non-zero inputs. */
export function prod(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  const out = T.prod(x.value, dim, keepdim);
  return record("prod", [x], out, (g) => [spread(g.mul(out), x, dim).div(x.value)]);
}

/** Max/min; the gradient is shared equally by the elements that tie for the extreme (as PyTorch's amax). */
function extreme(name: "max" | "min", x: Tensor, dim: Dims | undefined, keepdim: boolean): Tensor {
  const out = (name === "max" ? T.max : T.min)(x.value, dim, keepdim);
  return record(name, [x], out, (g) => {
    const kept = keptShape(x, dim);
    const mask = x.value.eq(out.reshape(kept)).cast(g.dtype);
    const count = mask.sum(dim, true);
    return [mask.mul(g.reshape(kept)).div(count)];
  });
}

/** Largest value over `dim` (all when omitted); ties share the gradient equally. */
export const max = (x: Tensor, dim?: Dims, keepdim = false): Tensor => extreme("max", x, dim, keepdim);
/** Smallest value over `dim` (all when omitted); ties share the gradient equally. */
export const min = (x: Tensor, dim?: Dims, keepdim = false): Tensor => extreme("min", x, dim, keepdim);

/** Variance (Bessel-corrected by default), composed from differentiable ops. */
export function variance(x: Tensor, dim?: Dims, options: { correction?: number; keepdim?: boolean } = {}): Tensor {
  const { correction = 1, keepdim = false } = options;
  const n = x.size / Math.max(1, keptShape(x, dim).reduce((a, b) => a * b, 1));
  const centered = sub(x, mean(x, dim, true));
  return div(sum(mul(centered, centered), dim, keepdim), Math.max(0, n - correction));
}

/** log Σ exp(x) along `dim`, stably; its gradient is softmax(x). */
export function logSumExp(x: Tensor, dim: number | readonly number[] = -1, keepdim = false): Tensor {
  const out = T.logSumExp(x.value, dim, keepdim);
  return record("logSumExp", [x], out, (g) => {
    const kept = keptShape(x, dim);
    const p = x.value.sub(out.reshape(kept)).exp();
    return [p.mul(g.reshape(kept))];
  });
}

/** Indices carry no gradient. */
export const argmax = (x: Tensor, dim?: number, keepdim = false): Tensor => new Tensor(T.argmax(x.value, dim, keepdim));
/** Index of the smallest value (int32, no gradient). */
export const argmin = (x: Tensor, dim?: number, keepdim = false): Tensor => new Tensor(T.argmin(x.value, dim, keepdim));


import { concat, linspace, Tensor } from "@backprop/autograd";
import * as T from "@backprop/tensor";
import fc from "fast-check";

/** A float64 tensor of standard normal values from a seeded generator. */
export function randn64(shape: readonly number[], seed: number, options: { requiresGrad?: boolean; scale?: number; shift?: number } = {}): Tensor {
  const z = T.randn(shape, { dtype: "float64", generator: new T.Generator(seed) });
  const v = z.mul(options.scale ?? 1).add(options.shift ?? 0);
  return new Tensor(v, { requiresGrad: options.requiresGrad ?? false });
}

/** Values of an array as a plain number array. */
export function values(x: T.NDArray | Tensor): number[] {
  return Array.from((x instanceof Tensor ? x.value : x).dataSync() as ArrayLike<number>);
}

/**
 * Central finite differences of the scalar `f` with respect to each entry of `base` (float64), restoring the
 * entry after each probe.
 */
export function numericGradient(f: (v: Float64Array) => number, base: Float64Array, h = 1e-5): Float64Array {
  const grad = new Float64Array(base.length);
  for (let i = 0; i < base.length; i++) {
    const v = base[i]!;
    base[i] = v + h;
    const plus = f(base);
    base[i] = v - h;
    const minus = f(base);
    base[i] = v;
    grad[i] = (plus - minus) / (2 * h);
  }
  return grad;
}

/** Number of live CPU storages (for leak checks). */
export function liveStorages(): number {
  return T.getBackend("cpu").memory().storages;
}

/**
 * A constant of magnitude 1e3…4e3 and either sign, to shift outputs by (the assignment's β reaches 100·i). Why
 * not larger: an output near 1e4 holds only ~1e-12 of absolute precision, which a central difference with
 * eps = 1e-6 turns into ~1e-6 of noise per output an input moves — tens of them (a conv weight, a batch-norm
 * column) reach the tolerance 1e-5 by rounding alone, whatever the formula.
 */
export const largeOffset: fc.Arbitrary<number> = fc.tuple(fc.boolean(), fc.double({ min: 1e3, max: 4e3, noNaN: true }))
  .map(([negative, size]) => (negative ? -size : size));

/**
 * `fn` with large outputs, as a batch gives them: its outputs shifted by `offset` and flattened, followed by 1024
 * outputs spread over ±1e4 that no input moves (as β = 100·i spreads a batch-norm layer's other features — most
 * of a batch's outputs do not depend on any one input element). The gradients stay those of `fn`. A finite
 * difference that projects each probe's outputs before subtracting them sums terms of size 1e4 and loses the
 * derivative's digits to their rounding; differenced first, the unmoved outputs cancel exactly.
 */
export function withLargeOutputs(fn: (...xs: Tensor[]) => Tensor, offset: number): (...xs: Tensor[]) => Tensor {
  const unmoved = linspace(-1e4, 1e4, 1024, { dtype: "float64" });
  return (...xs) => concat([fn(...xs).add(offset).reshape([-1]), unmoved]);
}

/**
 * The floor for `relError` against float64 central differences: 1e-4 × the largest |numerical| (at least the
 * assignment's 1e-8). The differences carry ~1e-10 of rounding noise for gradients near 1; a true gradient element that
 * nearly cancels (3e-6 in one Conv2d draw) would otherwise read a relative error of ~1e-5 from that noise alone.
 */
export function noiseFloor(numerical: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < numerical.length; i++) scale = Math.max(scale, Math.abs(numerical[i]!));
  return Math.max(1e-8, 1e-4 * scale);
}

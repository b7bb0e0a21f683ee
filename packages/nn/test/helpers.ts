import { Tensor } from "@backprop/autograd";
import * as T from "@backprop/tensor";

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

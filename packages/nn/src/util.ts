import { Tensor } from "@backprop/autograd";
import type { NDArray } from "@backprop/tensor";

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/** The array behind a tensor, or the array itself (targets may be given either way). */
export function arrayOf(x: Tensor | NDArray): NDArray {
  return x instanceof Tensor ? x.value : x;
}

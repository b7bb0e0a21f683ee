import type { NDArray } from "@backprop/tensor";

/**
 * Sums a gradient of a broadcast result back to the operand's `shape`: over the leading dimensions the operand
 * lacked and over the dimensions where it had size 1.
 */
export function unbroadcast(grad: NDArray, shape: readonly number[]): NDArray {
  if (grad.shape.length === shape.length && grad.shape.every((d, i) => d === shape[i])) return grad;
  const lead = grad.ndim - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < grad.ndim; i++) {
    if (i < lead || (shape[i - lead] === 1 && grad.shape[i] !== 1)) axes.push(i);
  }
  const summed = axes.length ? grad.sum(axes, true) : grad;
  const out = summed.reshape(shape);
  if (summed !== grad && summed !== out) summed.dispose();
  return out;
}

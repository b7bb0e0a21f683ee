import * as T from "@backprop/tensor";
import type { Conv2dOptions, NDArray, Pair, Pool2dOptions } from "@backprop/tensor";
import { record, recordMany } from "../record.ts";
import type { Tensor } from "../tensor.ts";
import { unbroadcast } from "../unbroadcast.ts";
import { squeeze, unsqueeze } from "./views.ts";

/**
 * Matrix product with PyTorch's rules. 1-D operands are lifted to matrices by differentiable views, so the
 * backward rule only handles the (batched) matrix case: dA = dC·Bᵀ, dB = Aᵀ·dC, summed over broadcast batches.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  // Both 1-D: a dot product. Lifting only one side would leave a [1] result whose row dimension is gone.
  if (a.ndim === 1 && b.ndim === 1) return squeeze(matmul(unsqueeze(a, 0), unsqueeze(b, 1)), [0, 1]);
  if (a.ndim === 1 && b.ndim >= 1) return squeeze(matmul(unsqueeze(a, 0), b), -2);
  if (b.ndim === 1 && a.ndim >= 2) return squeeze(matmul(a, unsqueeze(b, 1)), -1);
  const out = T.matmul(a.value, b.value);
  return record("matmul", [a, b], out, (g) => [
    a.requiresGrad ? unbroadcast(g.matmul(b.value.transpose(-1, -2)), a.shape) : null,
    b.requiresGrad ? unbroadcast(a.value.transpose(-1, -2).matmul(g), b.shape) : null,
  ]);
}

/** 2-D convolution (cross-correlation) with optional bias [outChannels]. */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv2dOptions = {}): Tensor {
  const out = T.conv2d(x.value, weight.value, bias?.value ?? null, options);
  return record("conv2d", [x, weight, bias ?? null], out, (g) => [
    x.requiresGrad ? T.conv2dBackwardInput(g, weight.value, x.shape, options) : null,
    weight.requiresGrad ? T.conv2dBackwardWeight(x.value, g, weight.shape, options) : null,
    bias?.requiresGrad ? g.sum([0, 2, 3]) : null,
  ]);
}

/** Max pooling; the gradient goes to the input each window chose. */
export function maxPool2d(x: Tensor, kernelSize: Pair, options: Pool2dOptions = {}): Tensor {
  return maxPool2dWithIndices(x, kernelSize, options).values;
}

/** Max pooling that also returns the chosen positions (flat index within each H×W plane; no gradient). */
export function maxPool2dWithIndices(x: Tensor, kernelSize: Pair, options: Pool2dOptions = {}): { values: Tensor; indices: NDArray } {
  const { values, indices } = T.maxPool2d(x.value, kernelSize, options);
  const [v] = recordMany("maxPool2d", [x], [values], ([g]) => [T.maxPool2dBackward(g!, indices, x.shape, kernelSize, options)]);
  return { values: v!, indices };
}

/**
 * Average pooling over [N, C, H, W]; the gradient is spread evenly over each window (padding counted unless
 * `countIncludePad: false`).
 */
export function avgPool2d(x: Tensor, kernelSize: Pair, options: Pool2dOptions = {}): Tensor {
  const out = T.avgPool2d(x.value, kernelSize, options);
  return record("avgPool2d", [x], out, (g) => [T.avgPool2dBackward(g, x.shape, kernelSize, options)]);
}

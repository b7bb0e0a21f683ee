import type { Tensor } from "@backprop/autograd";
import { ShapeError } from "@backprop/tensor";
import { fmtShape } from "../util.ts";

/** x Wᵀ + b over the last dimension of `x` (PyTorch's `F.linear`). */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const inFeatures = weight.shape[1];
  if (x.ndim < 1 || x.shape[x.ndim - 1] !== inFeatures) {
    throw new ShapeError(
      `linear: the input's last dimension must be ${inFeatures} (the weight is ${fmtShape(weight.shape)}), ` +
        `got input ${fmtShape(x.shape)}`,
    );
  }
  const y = x.matmul(weight.T);
  return bias ? y.add(bias) : y;
}

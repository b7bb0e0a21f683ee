import type { Tensor } from "@backprop/autograd";
import type { NDArray } from "@backprop/tensor";
import { type LossOptions, nllLoss, type Reduction } from "../functional/losses.ts";
import { Module } from "../module.ts";

/** `nllLoss` as a module (PyTorch's `nn.NLLLoss`): log-probabilities and class indices. */
export class NLLLoss extends Module {
  readonly reduction: Reduction;
  constructor(options: LossOptions = {}) {
    super();
    this.reduction = options.reduction ?? "mean";
  }
  override forward(input: Tensor, target: Tensor | NDArray): Tensor {
    return nllLoss(input, target, { reduction: this.reduction });
  }
}

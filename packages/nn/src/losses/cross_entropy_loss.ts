import type { Tensor } from "@backprop/autograd";
import type { NDArray } from "@backprop/tensor";
import { crossEntropy, type LossOptions, type Reduction } from "../functional/losses.ts";
import { Module } from "../module.ts";

/** `crossEntropy` as a module (PyTorch's `nn.CrossEntropyLoss`): logits and class indices or probabilities. */
export class CrossEntropyLoss extends Module {
  readonly reduction: Reduction;
  constructor(options: LossOptions = {}) {
    super();
    this.reduction = options.reduction ?? "mean";
  }
  override forward(input: Tensor, target: Tensor | NDArray): Tensor {
    return crossEntropy(input, target, { reduction: this.reduction });
  }
}

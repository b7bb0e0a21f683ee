import type { Tensor } from "@backprop/autograd";
import type { NDArray } from "@backprop/tensor";
import { crossEntropy, type CrossEntropyOptions, type Reduction } from "../functional/losses.ts";
import { Module } from "../module.ts";

/** `crossEntropy` as a module (PyTorch's `nn.CrossEntropyLoss`): logits and class indices or probabilities. */
export class CrossEntropyLoss extends Module {
  readonly reduction: Reduction;
  /** Fused passes or the composed graph; undefined picks fused where the input's backend has fused kernels. */
  fused: boolean | undefined;
  constructor(options: CrossEntropyOptions = {}) {
    super();
    this.reduction = options.reduction ?? "mean";
    this.fused = options.fused;
  }
  override forward(input: Tensor, target: Tensor | NDArray): Tensor {
    return crossEntropy(input, target, { reduction: this.reduction, fused: this.fused });
  }
}

import type { Tensor } from "@backprop/autograd";
import type { NDArray } from "@backprop/tensor";
import { type LossOptions, mseLoss, type Reduction } from "../functional/losses.ts";
import { Module } from "../module.ts";

/** `mseLoss` as a module (PyTorch's `nn.MSELoss`). */
export class MSELoss extends Module {
  readonly reduction: Reduction;
  constructor(options: LossOptions = {}) {
    super();
    this.reduction = options.reduction ?? "mean";
  }
  override forward(input: Tensor, target: Tensor | NDArray): Tensor {
    return mseLoss(input, target, { reduction: this.reduction });
  }
}

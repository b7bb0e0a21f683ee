import type { Tensor } from "@backprop/autograd";
import { Module } from "../module.ts";

/** Merges dimensions `startDim … endDim` (by default all but the batch dimension), as PyTorch's `nn.Flatten`. */
export class Flatten extends Module {
  constructor(readonly startDim: number = 1, readonly endDim: number = -1) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return x.flatten(this.startDim, this.endDim);
  }
  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}

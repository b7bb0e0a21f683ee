import type { Tensor } from "@backprop/autograd";
import { ones, zeros } from "@backprop/tensor";
import { Module } from "../module.ts";
import type { FactoryOptions } from "../options.ts";
import { Parameter } from "../parameter.ts";
import { checkBatchNormInput } from "./check.ts";

/**
 * The assignment's batch normalisation composed from autograd operations, so its gradient comes for free:
 * y = γ ⊙ (x − μ) / √(σ² + eps) + β with the mean μ and biased variance σ² of the batch [batch, nNeurons].
 * No running statistics (as the assignment asks): it always normalises with the batch it is given.
 * γ starts at 1 and β at 0.
 */
export class BatchNormAutograd extends Module {
  gamma: Parameter;
  beta: Parameter;

  constructor(readonly nNeurons: number, readonly eps: number = 1e-5, options: Omit<FactoryOptions, "generator"> = {}) {
    super();
    const { dtype = "float32", device = "cpu" } = options;
    this.gamma = new Parameter(ones([nNeurons], { dtype, device }));
    this.beta = new Parameter(zeros([nNeurons], { dtype, device }));
  }

  override forward(x: Tensor): Tensor {
    checkBatchNormInput("BatchNormAutograd", x, this.nNeurons);
    const mean = x.mean(0, true);
    const centered = x.sub(mean);
    const variance = centered.square().mean(0, true);
    const normalized = centered.div(variance.add(this.eps).sqrt());
    return normalized.mul(this.gamma).add(this.beta);
  }

  override extraRepr(): string {
    return `${this.nNeurons}, eps=${this.eps}`;
  }
}

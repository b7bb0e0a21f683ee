import type { Tensor } from "@backprop/autograd";
import { ones, ShapeError, zeros } from "@backprop/tensor";
import { Module } from "../module.ts";
import type { FactoryOptions } from "../options.ts";
import { Parameter } from "../parameter.ts";
import { fmtShape } from "../util.ts";

/** What the assignment's batch-norm modules share: γ (starting at 1), β (at 0), eps, and the input check. */
export abstract class CustomBatchNorm extends Module {
  gamma: Parameter;
  beta: Parameter;

  constructor(readonly nNeurons: number, readonly eps: number = 1e-5, options: Omit<FactoryOptions, "generator"> = {}) {
    super();
    const { dtype = "float32", device = "cpu" } = options;
    this.gamma = new Parameter(ones([nNeurons], { dtype, device }));
    this.beta = new Parameter(zeros([nNeurons], { dtype, device }));
  }

  /** The assignment's shape check: [batch, nNeurons] input only. */
  protected checkInput(x: Tensor): void {
    if (x.ndim !== 2 || x.shape[1] !== this.nNeurons) {
      const owner = `${this.constructor.name}(${this.nNeurons})`;
      throw new ShapeError(`${owner}: expected input [batch, ${this.nNeurons}], got ${fmtShape(x.shape)}`);
    }
  }

  override extraRepr(): string {
    return `${this.nNeurons}, eps=${this.eps}`;
  }
}

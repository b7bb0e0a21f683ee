import type { Tensor } from "@backprop/autograd";
import { zeros } from "@backprop/tensor";
import { linear } from "../functional/linear.ts";
import { kaimingUniform_, uniform_ } from "../init.ts";
import { Module } from "../module.ts";
import type { FactoryOptions } from "../options.ts";
import { Parameter } from "../parameter.ts";

/**
 * y = x Wᵀ + b, with W of shape [outFeatures, inFeatures], as PyTorch's `nn.Linear`. Initialised as PyTorch
 * does: W from Kaiming-uniform with a = √5 (that is U(−1/√in, 1/√in)) and b from U(−1/√in, 1/√in).
 */
export class Linear extends Module {
  weight: Parameter;
  bias: Parameter | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: FactoryOptions & { bias?: boolean } = {},
  ) {
    super();
    const { dtype = "float32", device = "cpu", generator } = options;
    this.weight = new Parameter(zeros([outFeatures, inFeatures], { dtype, device }));
    kaimingUniform_(this.weight, { a: Math.sqrt(5), generator });
    this.bias = null;
    if (options.bias ?? true) {
      this.bias = new Parameter(zeros([outFeatures], { dtype, device }));
      const bound = inFeatures > 0 ? 1 / Math.sqrt(inFeatures) : 0;
      uniform_(this.bias, -bound, bound, { generator });
    }
  }

  override forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}

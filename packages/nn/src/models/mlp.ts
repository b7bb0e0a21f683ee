import type { Tensor } from "@backprop/autograd";
import { ValueError } from "@backprop/tensor";
import { BatchNormAutograd } from "../custom_batch_norm/batch_norm_autograd.ts";
import { BatchNormManualModule } from "../custom_batch_norm/batch_norm_manual.ts";
import { ReLU } from "../layers/activations.ts";
import { BatchNorm1d } from "../layers/batch_norm.ts";
import { Dropout } from "../layers/dropout.ts";
import { Linear } from "../layers/linear.ts";
import { linearRelu } from "../functional/linear.ts";
import { Module } from "../module.ts";
import type { FactoryOptions } from "../options.ts";
import { Sequential } from "../sequential.ts";

/** Which batch norm follows each hidden linear layer: none, or one of the three implementations. */
export type MLPBatchNorm = false | "autograd" | "manual" | "builtin";

export interface MLPOptions extends FactoryOptions {
  batchNorm?: MLPBatchNorm;
  /** Dropout probability after each hidden activation (0: none). */
  dropout?: number;
}

/**
 * The assignment's multi-layer perceptron on autograd: for each hidden size Linear → [batch norm] → ReLU →
 * [Dropout], then a final Linear giving logits (pair it with `crossEntropy`). An empty `nHidden` is logistic
 * regression. The layers sit in a `Sequential` named `layers`, so the state dict keys are `layers.0.weight`,
 * `layers.0.bias`, …, as in the PyTorch module in the README.
 */
export class MLP extends Module {
  layers: Sequential;

  constructor(readonly nInputs: number, readonly nHidden: readonly number[], readonly nClasses: number, options: MLPOptions = {}) {
    super();
    const { batchNorm = false, dropout = 0, ...factory } = options;
    for (const [name, n] of [["nInputs", nInputs], ["nClasses", nClasses], ...nHidden.map((h, i) => [`nHidden[${i}]`, h] as const)] as const) {
      if (!Number.isInteger(n) || n < 1) throw new ValueError(`MLP: ${name} must be a positive integer, got ${n}`);
    }
    const layers: Module[] = [];
    let width = nInputs;
    for (const hidden of nHidden) {
      layers.push(new Linear(width, hidden, factory));
      const { dtype, device } = factory;
      if (batchNorm === "autograd") layers.push(new BatchNormAutograd(hidden, 1e-5, { dtype, device }));
      else if (batchNorm === "manual") layers.push(new BatchNormManualModule(hidden, 1e-5, { dtype, device }));
      else if (batchNorm === "builtin") layers.push(new BatchNorm1d(hidden, { dtype, device }));
      else if (batchNorm !== false) {
        throw new ValueError(`MLP: batchNorm must be false, "autograd", "manual" or "builtin", got ${JSON.stringify(batchNorm)}`);
      }
      layers.push(new ReLU());
      if (dropout > 0) layers.push(new Dropout(dropout, { generator: factory.generator }));
      width = hidden;
    }
    layers.push(new Linear(width, nClasses, factory));
    this.layers = new Sequential(...layers);
  }

  /**
   * Logits [batch, nClasses] of x [batch, nInputs] (or any [batch, …] that flattens to nInputs). A Linear directly
   * followed by its ReLU (no batch norm between) runs as one `linearRelu`: the ReLU in the product's epilogue.
   */
  override forward(x: Tensor): Tensor {
    let h = x.ndim > 2 ? x.flatten(1) : x;
    const layers = [...this.layers];
    for (let i = 0; i < layers.length; i++) {
      const layer = layers[i]!;
      if (layer.constructor === Linear && layers[i + 1]?.constructor === ReLU) {
        const linear = layer as Linear;
        h = linearRelu(h, linear.weight, linear.bias);
        i++;
      } else h = layer.forward(h);
    }
    return h;
  }
}

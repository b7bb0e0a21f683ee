import { keep, type NDArray, ValueError } from "@backprop/tensor";
import { type ShapeMismatch, StateDictError } from "../errors.ts";
import { fmtShape } from "../util.ts";
import { type BackwardOptions, LinearModule, type ManualOptions, replaceArray } from "./linear_module.ts";
import { ReLUModule } from "./relu_module.ts";
import { SoftMaxModule } from "./softmax_module.ts";

/**
 * The assignment's multi-layer perceptron with hand-written backpropagation: Linear → ReLU for each hidden
 * size, then Linear → SoftMax. An empty `nHidden` is multinomial logistic regression. `forward` returns class
 * probabilities; `backward` takes dL/dprobabilities (from `CrossEntropyModule.backward`) and fills every
 * layer's `grads`.
 */
export class ManualMLP {
  /** The layers in order (LinearModule, ReLUModule, …, LinearModule, SoftMaxModule). */
  readonly layers: (LinearModule | ReLUModule | SoftMaxModule)[] = [];
  /** The linear layers alone, each with `params` and `grads`. */
  readonly linears: LinearModule[] = [];

  constructor(readonly nInputs: number, readonly nHidden: readonly number[], readonly nClasses: number, options: ManualOptions = {}) {
    for (const [name, n] of [["nInputs", nInputs], ["nClasses", nClasses], ...nHidden.map((h, i) => [`nHidden[${i}]`, h] as const)] as const) {
      if (!Number.isInteger(n) || n < 1) throw new ValueError(`ManualMLP: ${name} must be a positive integer, got ${n}`);
    }
    const sizes = [nInputs, ...nHidden, nClasses];
    for (let i = 0; i + 1 < sizes.length; i++) {
      const linear = new LinearModule(sizes[i]!, sizes[i + 1]!, options);
      this.linears.push(linear);
      this.layers.push(linear);
      if (i + 2 < sizes.length) this.layers.push(new ReLUModule());
    }
    this.layers.push(new SoftMaxModule());
  }

  /**
   * Class probabilities [batch, nClasses] of x [batch, nInputs]. A linear layer and the ReLU after it run as one
   * product with the bias and ReLU in its epilogue (see `matmulBias`); the ReLU module remembers that output.
   */
  forward(x: NDArray): NDArray {
    for (let i = 0; i < this.layers.length; i++) {
      const layer = this.layers[i]!, next = this.layers[i + 1];
      if (layer instanceof LinearModule && next instanceof ReLUModule) {
        x = layer.forward(x, { relu: true });
        next.rememberOutput(x);
        i++;
      } else x = layer.forward(x);
    }
    return x;
  }

  /**
   * Backpropagates dL/dprobabilities through every layer and returns dL/dx. A training step that needs only
   * the weights' gradients passes `{ inputGrad: false }`: the first layer then skips dL/dx (a third of the
   * backward pass's multiply-adds for the default MLP) and `undefined` is returned.
   */
  backward(dout: NDArray): NDArray;
  backward(dout: NDArray, options: BackwardOptions): NDArray | undefined;
  backward(dout: NDArray, options: BackwardOptions = {}): NDArray | undefined {
    for (let i = this.layers.length - 1; i > 0; i--) dout = this.layers[i]!.backward(dout);
    const first = this.layers[0]!;
    return first instanceof LinearModule ? first.backward(dout, options) : first.backward(dout);
  }

  clearCache(): void {
    for (const layer of this.layers) layer.clearCache();
  }

  /** Plain gradient descent on every linear layer. */
  sgdStep(lr: number): void {
    for (const linear of this.linears) linear.sgdStep(lr);
  }

  /**
   * The weights under the names the autograd `MLP` (without batch norm or dropout) uses — `layers.0.weight`,
   * `layers.0.bias`, `layers.2.weight`, … — so either model loads the other's state. The arrays are this
   * model's own.
   */
  stateDict(): Record<string, NDArray> {
    const out: Record<string, NDArray> = {};
    this.linears.forEach((l, k) => {
      out[`layers.${2 * k}.weight`] = l.params.weight;
      out[`layers.${2 * k}.bias`] = l.params.bias;
    });
    return out;
  }

  /** Copies weights saved by `stateDict()` (or by an `MLP` of the same sizes); keys and shapes must match. */
  loadStateDict(state: Record<string, NDArray>): void {
    const mine = this.stateDict();
    const missing = Object.keys(mine).filter((k) => !Object.hasOwn(state, k));
    const unexpected = Object.keys(state).filter((k) => !Object.hasOwn(mine, k));
    const mismatched: ShapeMismatch[] = Object.keys(mine)
      .filter((k) => Object.hasOwn(state, k))
      .filter((k) => state[k]!.shape.length !== mine[k]!.shape.length || state[k]!.shape.some((d, i) => d !== mine[k]!.shape[i]))
      .map((k) => ({ key: k, expected: mine[k]!.shape, found: state[k]!.shape }));
    if (missing.length || unexpected.length || mismatched.length) {
      const lines = ["ManualMLP.loadStateDict: cannot load the state; nothing was loaded."];
      if (missing.length) lines.push(`  missing keys: ${missing.map((k) => `"${k}"`).join(", ")}`);
      if (unexpected.length) lines.push(`  unexpected keys: ${unexpected.map((k) => `"${k}"`).join(", ")}`);
      for (const m of mismatched) {
        lines.push(`  shape mismatch for "${m.key}": the state has ${fmtShape(m.found)}, the model ${fmtShape(m.expected)}`);
      }
      throw new StateDictError(lines.join("\n"), missing, unexpected, mismatched);
    }
    this.linears.forEach((l, k) => {
      for (const key of ["weight", "bias"] as const) {
        const src = state[`layers.${2 * k}.${key}`]!;
        const moved = src.to(l.params[key].device);
        replaceArray(l.params, key, keep(moved.cast(l.params[key].dtype, true)));
        if (moved !== src) moved.dispose();
      }
    });
  }
}

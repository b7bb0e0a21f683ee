import { fused, type Generator, keep, matmulBias, type NDArray, normal, ShapeError, ValueError, zeros } from "@backprop/tensor";
import { sgdUpdate } from "../optim/fused_updates.ts";
import { fmtShape } from "../util.ts";

/** A linear layer's arrays: weight [out, in] and bias [out]. */
export interface LinearArrays {
  weight: NDArray;
  bias: NDArray;
}

/** Options of a manual module's `backward`. */
export interface BackwardOptions {
  /** Whether to compute and return dL/dinput (default true). */
  inputGrad?: boolean;
}

/** Options of `LinearModule.forward`. */
export interface LinearForwardOptions {
  /**
   * Apply ReLU to the output as well (default false): the bias and the ReLU are then both added in the product's
   * epilogue on backends that have one. `ManualMLP` uses it for a linear layer followed by a `ReLUModule`.
   */
  relu?: boolean;
}

/** Plain gradient descent, θ − ∇·lr, as one fused pass: the SGD optimizer's rule without decay or momentum. */
const PLAIN_SGD = sgdUpdate({ decay: false, momentum: false, buffer: false, nesterov: false });

export interface ManualOptions {
  /** Draws the initial weights (default: the default generator). */
  generator?: Generator;
  dtype?: "float32" | "float64";
  device?: string;
}

/** Replaces `obj[key]` with `value` (kept across scopes), disposing the previous array. */
export function replaceArray<K extends string>(obj: Record<K, NDArray>, key: K, value: NDArray): void {
  const old = obj[key];
  obj[key] = keep(value);
  if (old !== value) old.dispose();
}

/**
 * The assignment's linear module, with backpropagation written out by hand (no autograd): y = x Wᵀ + b for
 * x [batch, in]. Weights start from N(0, 0.0001²), biases at 0. `forward` remembers x for `backward`, which
 * fills `grads` and returns dL/dx; call both within one `tidy` scope (or none), since x is not copied.
 */
export class LinearModule {
  readonly params: LinearArrays;
  readonly grads: LinearArrays;
  #input: NDArray | null = null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, options: ManualOptions = {}) {
    const { dtype = "float32", device = "cpu", generator } = options;
    this.params = {
      weight: keep(normal([outFeatures, inFeatures], 0, 1e-4, { dtype, device, generator })),
      bias: keep(zeros([outFeatures], { dtype, device })),
    };
    this.grads = {
      weight: keep(zeros([outFeatures, inFeatures], { dtype, device })),
      bias: keep(zeros([outFeatures], { dtype, device })),
    };
  }

  /**
   * y = x Wᵀ + b (then max(y, 0) with `{ relu: true }`), with the bias (and ReLU) applied inside the product
   * where the backend allows (`matmulBias`).
   */
  forward(x: NDArray, options: LinearForwardOptions = {}): NDArray {
    if (x.ndim !== 2 || x.shape[1] !== this.inFeatures) {
      throw new ShapeError(`LinearModule(${this.inFeatures}, ${this.outFeatures}).forward: expected x [batch, ${this.inFeatures}], got ${fmtShape(x.shape)}`);
    }
    this.#input = x;
    const wT = this.params.weight.T;
    const y = matmulBias(x, wT, this.params.bias, { relu: options.relu ?? false });
    wT.dispose();
    return y;
  }

  /**
   * dW = doutᵀ x, db = Σ_batch dout, and dx = dout W, which is returned. With `{ inputGrad: false }` dx is not
   * computed (nothing uses it for a first layer: it costs as much as dW) and `undefined` is returned.
   */
  backward(dout: NDArray): NDArray;
  backward(dout: NDArray, options: BackwardOptions): NDArray | undefined;
  backward(dout: NDArray, options: BackwardOptions = {}): NDArray | undefined {
    const x = this.#input;
    if (!x) throw new ValueError("LinearModule.backward: call forward first (the input it saw is needed)");
    if (dout.ndim !== 2 || dout.shape[0] !== x.shape[0] || dout.shape[1] !== this.outFeatures) {
      throw new ShapeError(`LinearModule.backward: expected dout [${x.shape[0]}, ${this.outFeatures}], got ${fmtShape(dout.shape)}`);
    }
    const doutT = dout.T;
    replaceArray(this.grads, "weight", doutT.matmul(x));
    replaceArray(this.grads, "bias", dout.sum(0));
    doutT.dispose();
    return options.inputGrad === false ? undefined : dout.matmul(this.params.weight);
  }

  /** Forgets the input remembered by `forward`. */
  clearCache(): void {
    this.#input = null;
  }

  /**
   * Plain gradient descent on this layer: θ ← θ − dθ · lr, one pass per parameter (the same values as the
   * separate multiply and subtract).
   */
  sgdStep(lr: number): void {
    for (const key of ["weight", "bias"] as const) {
      const [updated] = fused(PLAIN_SGD, [this.params[key], this.grads[key]], [0, 0, 1, lr]);
      replaceArray(this.params, key, updated!);
    }
  }
}

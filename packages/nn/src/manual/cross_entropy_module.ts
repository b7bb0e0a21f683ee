import { DTypeError, type NDArray, oneHot, ShapeError } from "@backprop/tensor";
import { fmtShape } from "../util.ts";

/**
 * Cross-entropy of predicted probabilities x [batch, classes] against one-hot targets y (or int32 labels
 * [batch], turned into one-hot), averaged over the batch: L = −(1/B) Σ_b Σ_c y_bc log x_bc.
 */
export class CrossEntropyModule {
  /** The loss, a 0-d array. */
  forward(x: NDArray, y: NDArray): NDArray {
    const target = this.#oneHot("forward", x, y);
    const logX = x.log();
    const picked = target.mul(logX);
    const total = picked.sum();
    const loss = total.div(-x.shape[0]!);
    for (const a of [logX, picked, total]) a.dispose();
    if (target !== y) target.dispose();
    return loss;
  }

  /** dL/dx = −y / (B · x). */
  backward(x: NDArray, y: NDArray): NDArray {
    const target = this.#oneHot("backward", x, y);
    const ratio = target.div(x);
    const dx = ratio.div(-x.shape[0]!);
    ratio.dispose();
    if (target !== y) target.dispose();
    return dx;
  }

  #oneHot(op: string, x: NDArray, y: NDArray): NDArray {
    if (x.ndim !== 2) throw new ShapeError(`CrossEntropyModule.${op}: expected x [batch, classes], got ${fmtShape(x.shape)}`);
    if (y.dtype === "int32" && y.ndim === 1 && y.shape[0] === x.shape[0]) {
      return oneHot(y, x.shape[1]!, { dtype: x.dtype });
    }
    if (y.dtype === "int32" || y.dtype === "bool") {
      throw new DTypeError(`CrossEntropyModule.${op}: int32 labels must have shape [${x.shape[0]}], got ${fmtShape(y.shape)}`);
    }
    if (y.shape.length !== 2 || y.shape[0] !== x.shape[0] || y.shape[1] !== x.shape[1]) {
      throw new ShapeError(`CrossEntropyModule.${op}: one-hot targets must have x's shape ${fmtShape(x.shape)}, got ${fmtShape(y.shape)}`);
    }
    return y;
  }
}

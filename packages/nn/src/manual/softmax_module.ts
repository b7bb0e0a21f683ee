import { type NDArray, ShapeError, ValueError } from "@backprop/tensor";
import { fmtShape } from "../util.ts";

/**
 * Softmax over the features of x [batch, features], with a hand-written backward. The row maximum is
 * subtracted before exponentiating (the max trick), so large inputs do not overflow.
 */
export class SoftMaxModule {
  #output: NDArray | null = null;

  forward(x: NDArray): NDArray {
    if (x.ndim !== 2) throw new ShapeError(`SoftMaxModule.forward: expected x [batch, features], got ${fmtShape(x.shape)}`);
    const rowMax = x.max(1, true);
    const shifted = x.sub(rowMax);
    const e = shifted.exp();
    const total = e.sum(1, true);
    const y = e.div(total);
    for (const a of [rowMax, shifted, e, total]) a.dispose();
    this.#output = y;
    return y;
  }

  /** dx = y ⊙ (dout − Σ_j dout_j y_j), the softmax Jacobian applied row by row without forming it. */
  backward(dout: NDArray): NDArray {
    const y = this.#output;
    if (!y) throw new ValueError("SoftMaxModule.backward: call forward first");
    const weighted = dout.mul(y);
    const dot = weighted.sum(1, true);
    const centered = dout.sub(dot);
    const dx = y.mul(centered);
    for (const a of [weighted, dot, centered]) a.dispose();
    return dx;
  }

  clearCache(): void {
    this.#output = null;
  }
}

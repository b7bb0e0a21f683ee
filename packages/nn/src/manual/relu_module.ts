import { type NDArray, relu, ValueError } from "@backprop/tensor";

/** max(0, x) with a hand-written backward: the gradient passes where x > 0. */
export class ReLUModule {
  #input: NDArray | null = null;

  forward(x: NDArray): NDArray {
    this.#input = x;
    return relu(x);
  }

  backward(dout: NDArray): NDArray {
    const x = this.#input;
    if (!x) throw new ValueError("ReLUModule.backward: call forward first");
    const positive = x.gt(0);
    const mask = positive.cast(dout.dtype);
    const dx = dout.mul(mask);
    positive.dispose();
    mask.dispose();
    return dx;
  }

  clearCache(): void {
    this.#input = null;
  }
}

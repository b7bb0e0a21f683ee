import { E, fused, isFloat, type NDArray, relu, ValueError } from "@backprop/tensor";

/** dout · (x > 0): the comparison gives 1 or 0 in the dtype, so it is the mask-and-multiply in one pass. */
const RELU_BACKWARD = [E.mul(E.input(0), E.gt(E.input(1), 0))];

/** max(0, x) with a hand-written backward: the gradient passes where x > 0. */
export class ReLUModule {
  #input: NDArray | null = null;

  forward(x: NDArray): NDArray {
    this.#input = x;
    return relu(x);
  }

  /**
   * For a ReLU already applied by the layer before it (`LinearModule.forward(x, { relu: true })`): remembers its
   * output y = max(x, 0) in place of x. y > 0 exactly where x > 0 (NaN in neither), so `backward` is unchanged.
   */
  rememberOutput(y: NDArray): void {
    this.#input = y;
  }

  backward(dout: NDArray): NDArray {
    const x = this.#input;
    if (!x) throw new ValueError("ReLUModule.backward: call forward first");
    if (x.dtype === dout.dtype && isFloat(x.dtype)) return fused(RELU_BACKWARD, [dout, x])[0]!;
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

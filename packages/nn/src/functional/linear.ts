import { Function, type FunctionCtx, Tensor } from "@backprop/autograd";
import { matmulBias, ShapeError } from "@backprop/tensor";
import { fmtShape } from "../util.ts";

/**
 * x Wᵀ + b as one operation: the forward pass is `matmulBias` (the bias added in the GEMM's epilogue), the
 * backward pass the composed graph's gradients — dx = g W, dW = gᵀ x and db = Σ g over the leading dimensions —
 * each computed only when its input needs it.
 */
class LinearBias extends Function {
  static override forward(ctx: FunctionCtx, x: Tensor, weight: Tensor, bias: Tensor): Tensor {
    ctx.saveForBackward(x, weight);
    const wT = weight.value.T;
    try {
      return new Tensor(matmulBias(x.value, wT, bias.value));
    } finally {
      wT.dispose();
    }
  }

  static override backward(ctx: FunctionCtx, grad: Tensor): (Tensor | null)[] {
    const [x, weight] = ctx.savedTensors as [Tensor, Tensor];
    const g = grad.value;
    const outFeatures = weight.shape[0]!, inFeatures = weight.shape[1]!;
    const [needX, needW, needB] = ctx.needsInputGrad;
    const g2 = g.reshape([-1, outFeatures]);
    const gT = g2.T;
    try {
      const dx = needX ? new Tensor(g.matmul(weight.value)) : null;
      let dW: Tensor | null = null;
      if (needW) {
        const x2 = x.value.reshape([-1, inFeatures]);
        dW = new Tensor(gT.matmul(x2));
        x2.dispose();
      }
      const db = needB ? new Tensor(g2.sum(0)) : null;
      return [dx, dW, db];
    } finally {
      gT.dispose();
      g2.dispose();
    }
  }
}

/**
 * x Wᵀ + b over the last dimension of `x` (PyTorch's `F.linear`). With a bias, on a backend with a GEMM epilogue
 * (`Backend.matmulBias`, the CPU), the bias is added inside the product; elsewhere the ops are composed.
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const inFeatures = weight.shape[1];
  if (x.ndim < 1 || x.shape[x.ndim - 1] !== inFeatures) {
    throw new ShapeError(
      `linear: the input's last dimension must be ${inFeatures} (the weight is ${fmtShape(weight.shape)}), ` +
        `got input ${fmtShape(x.shape)}`,
    );
  }
  // One dtype throughout, so each gradient has its input's dtype without casts.
  const fits = bias && x.ndim >= 2 && bias.ndim === 1 && x.dtype === weight.dtype && bias.dtype === weight.dtype;
  if (fits && x.value.backend.matmulBias) return LinearBias.apply(x, weight, bias);
  const y = x.matmul(weight.T);
  return bias ? y.add(bias) : y;
}

import { Function, type FunctionCtx, Tensor, UNARY_BACKWARD } from "@backprop/autograd";
import { matmulBias, type NDArray, ShapeError } from "@backprop/tensor";
import { fmtShape } from "../util.ts";

/** ReLU's own backward rule, g · (x > 0), given the output y for x: y > 0 exactly where the pre-activation is. */
const reluBackward = UNARY_BACKWARD.relu!;

/**
 * x Wᵀ + b (then max(·, 0) with `relu`) as one operation: the forward pass is `matmulBias` (the bias and ReLU
 * applied in the GEMM's epilogue), the backward pass the composed graph's gradients — g masked by y > 0 for the
 * ReLU, then dx = g W, dW = gᵀ x and db = Σ g over the leading dimensions — each computed only when its input
 * needs it.
 */
class LinearBias extends Function {
  static override forward(ctx: FunctionCtx, x: Tensor, weight: Tensor, bias: Tensor, relu: boolean): Tensor {
    ctx.saveForBackward(x, weight);
    const wT = weight.value.T;
    try {
      const y = matmulBias(x.value, wT, bias.value, { relu });
      // The output's values stay as they are until backward (a Tensor's value is replaced, never written).
      if (relu) Object.assign(ctx, { y });
      return new Tensor(y);
    } finally {
      wT.dispose();
    }
  }

  static override backward(ctx: FunctionCtx, grad: Tensor): (Tensor | null)[] {
    const [x, weight] = ctx.savedTensors as [Tensor, Tensor];
    const { y } = ctx as FunctionCtx & { y?: NDArray };
    const g = y ? reluBackward(grad.value, y, y, 0) : grad.value;
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
      return [dx, dW, db, null];
    } finally {
      gT.dispose();
      g2.dispose();
      if (g !== grad.value) g.dispose();
    }
  }
}

/**
 * x Wᵀ + b over the last dimension of `x` (PyTorch's `F.linear`). With a bias, on a backend with a GEMM epilogue
 * (`Backend.matmulBias`, the CPU), the bias is added inside the product; elsewhere the ops are composed.
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  checkInput(x, weight);
  if (epilogueFits(x, weight, bias)) return LinearBias.apply(x, weight, bias, false);
  const y = x.matmul(weight.T);
  return bias ? y.add(bias) : y;
}

/**
 * relu(x Wᵀ + b): where `linear` runs in the GEMM's epilogue, the ReLU goes there too (no separate pass over the
 * output, no separate node); elsewhere `linear` then `relu`. The same values either way.
 */
export function linearRelu(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  checkInput(x, weight);
  if (epilogueFits(x, weight, bias)) return LinearBias.apply(x, weight, bias, true);
  return linear(x, weight, bias).relu();
}

/**
 * Whether x Wᵀ + b can run as one `matmulBias`: a bias, one dtype throughout (so each gradient has its input's
 * dtype without casts), and a backend with the epilogue.
 */
function epilogueFits(x: Tensor, weight: Tensor, bias?: Tensor | null): bias is Tensor {
  return !!bias && x.ndim >= 2 && bias.ndim === 1 && x.dtype === weight.dtype && bias.dtype === weight.dtype &&
    !!x.value.backend.matmulBias;
}

function checkInput(x: Tensor, weight: Tensor): void {
  const inFeatures = weight.shape[1];
  if (x.ndim < 1 || x.shape[x.ndim - 1] !== inFeatures) {
    throw new ShapeError(
      `linear: the input's last dimension must be ${inFeatures} (the weight is ${fmtShape(weight.shape)}), ` +
        `got input ${fmtShape(x.shape)}`,
    );
  }
}

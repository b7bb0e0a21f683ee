// Batch normalisation with the batch's statistics as fused passes: the statistics are reductions, the
// normalisation is one pass over the input, and the backward pass is one pass for g·x̂, two per-channel sums
// and one pass for the input gradient — instead of the dozen whole-array ops the composed graph records.
import { Function, type FunctionCtx, Tensor } from "@backprop/autograd";
import { E, type Expr, fused, type NDArray } from "@backprop/tensor";

/** x̂ = (x − mean) · rstd over inputs x, mean, rstd at `x`, `m`, `r`. */
const xhatOf = (x: Expr, m: Expr, r: Expr): Expr => E.mul(E.sub(x, m), r);

/**
 * y = x̂·γ + β in the composed graph's operation order (so the forward values equal it bit for bit), with the
 * closed-form gradient: ∂β = Σg, ∂γ = Σg·x̂, ∂x = rstd·γ·(g − Σg/n − x̂·Σg·x̂/n), sums per channel.
 * Arguments: input, γ, β (or null), then mean and rstd shaped like the input with size-1 non-channel dimensions.
 */
export class BatchNormFused extends Function {
  static override forward(
    ctx: FunctionCtx,
    input: Tensor,
    weight: Tensor | null,
    bias: Tensor | null,
    mean: NDArray,
    rstd: NDArray,
  ): Tensor {
    const paramShape = mean.shape;
    const inputs = [input.value, mean, rstd];
    let y = xhatOf(E.input(0), E.input(1), E.input(2));
    if (weight) y = E.mul(y, E.input(inputs.push(weight.value.reshape(paramShape)) - 1));
    if (bias) y = E.add(y, E.input(inputs.push(bias.value.reshape(paramShape)) - 1));
    ctx.mean = mean;
    ctx.rstd = rstd;
    ctx.saveForBackward(input, weight);
    return new Tensor(fused([y], inputs)[0]!);
  }

  static override backward(ctx: FunctionCtx, grad: Tensor): (Tensor | null)[] {
    const [input, weight] = ctx.savedTensors as [Tensor, Tensor | null];
    const mean = ctx.mean as NDArray, rstd = ctx.rstd as NDArray;
    const g = grad.value, x = input.value;
    const channels = x.shape[1]!;
    const dims = x.shape.map((_, i) => i).filter((i) => i !== 1);
    const n = x.size / Math.max(1, channels);
    const [gXhat] = fused([E.mul(E.input(0), xhatOf(E.input(1), E.input(2), E.input(3)))], [g, x, mean, rstd]);
    const sumG = g.sum(dims, true), sumGXhat = gXhat!.sum(dims, true);
    let gx: NDArray | null = null;
    if (ctx.needsInputGrad[0]) {
      const xhat = xhatOf(E.input(1), E.input(2), E.input(3));
      const inner = E.sub(E.sub(E.input(0), E.div(E.input(4), E.param(0))), E.mul(xhat, E.div(E.input(5), E.param(0))));
      const inputs = [g, x, mean, rstd, sumG, sumGXhat];
      const scale = weight ? E.mul(E.input(3), E.input(inputs.push(weight.value.reshape(mean.shape)) - 1)) : E.input(3);
      gx = fused([E.mul(scale, inner)], inputs, [n])[0]!;
    }
    return [
      gx && new Tensor(gx),
      weight && ctx.needsInputGrad[1] ? new Tensor(sumGXhat.reshape([channels])) : null,
      ctx.needsInputGrad[2] ? new Tensor(sumG.reshape([channels])) : null,
      null,
      null,
    ];
  }
}

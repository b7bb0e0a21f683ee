import { Function, type FunctionCtx, Tensor } from "@backprop/autograd";
import { CustomBatchNorm } from "./base.ts";

/**
 * Batch normalisation over x [batch, n] as a custom autograd `Function` with a hand-written backward.
 * With x̂ = (x − μ)·r, r = 1/√(σ² + eps) and y = γ x̂ + β, the gradients are
 *   dβ = Σ_b dy,   dγ = Σ_b dy ⊙ x̂,   dx = (γ r / B) ⊙ (B·dy − dβ − x̂ ⊙ dγ).
 * Forward saves only what those need — x̂ (for dγ or dx), γ and r (for dx) — and backward computes only the
 * gradients `ctx.needsInputGrad` asks for.
 */
export class BatchNormManualFunction extends Function {
  static override forward(ctx: FunctionCtx, input: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
    const x = input.value;
    const mean = x.mean(0, true);
    const centered = x.sub(mean);
    const squared = centered.square();
    const variance = squared.mean(0, true);
    const shifted = variance.add(eps);
    const invStd = shifted.rsqrt();
    const xhat = centered.mul(invStd);
    const scaled = xhat.mul(gamma.value);
    const out = scaled.add(beta.value);
    for (const a of [mean, centered, squared, variance, shifted, scaled]) a.dispose();
    const [needX = false, needGamma = false] = ctx.needsInputGrad;
    ctx.saveForBackward(
      needX || needGamma ? new Tensor(xhat) : null,
      needX ? gamma : null,
      needX ? new Tensor(invStd) : null,
    );
    if (!needX && !needGamma) xhat.dispose();
    if (!needX) invStd.dispose();
    return new Tensor(out);
  }

  static override backward(ctx: FunctionCtx, gradOutput: Tensor): [Tensor | null, Tensor | null, Tensor | null, null] {
    const [needX = false, needGamma = false, needBeta = false] = ctx.needsInputGrad;
    const [xhatT, gammaT, invStdT] = ctx.savedTensors;
    const dy = gradOutput.value;
    const dBeta = needBeta || needX ? dy.sum(0) : null;
    let dGamma = null;
    if (needGamma || needX) {
      const prod = dy.mul(xhatT!.value);
      dGamma = prod.sum(0);
      prod.dispose();
    }
    let dx = null;
    if (needX) {
      const batch = dy.shape[0]!;
      const xhat = xhatT!.value, gamma = gammaT!.value, invStd = invStdT!.value;
      const scaledDy = dy.mul(batch);
      const minusBeta = scaledDy.sub(dBeta!);
      const xhatDGamma = xhat.mul(dGamma!);
      const inner = minusBeta.sub(xhatDGamma);
      const factor = gamma.mul(invStd);
      const scale = factor.div(batch);
      dx = inner.mul(scale);
      for (const a of [scaledDy, minusBeta, xhatDGamma, inner, factor, scale]) a.dispose();
    }
    // dβ and dγ may have been formed only as parts of dx.
    if (!needBeta) dBeta?.dispose();
    if (!needGamma) dGamma?.dispose();
    return [
      dx ? new Tensor(dx) : null,
      needGamma ? new Tensor(dGamma!) : null,
      needBeta ? new Tensor(dBeta!) : null,
      null,
    ];
  }
}

/** The assignment's batch norm module on top of `BatchNormManualFunction` (no running statistics; γ = 1, β = 0). */
export class BatchNormManualModule extends CustomBatchNorm {
  override forward(x: Tensor): Tensor {
    this.checkInput(x);
    return BatchNormManualFunction.apply(x, this.gamma, this.beta, this.eps);
  }
}

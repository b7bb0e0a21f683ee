import type { Tensor } from "@backprop/autograd";
import { fused, isFloat, type NDArray, ValueError } from "@backprop/tensor";
import { adamUpdate } from "./fused_updates.ts";
import { Optimizer, type ParamGroup, type ParamState } from "./optimizer.ts";

export type AdamOptions = {
  lr: number;
  betas: readonly [number, number];
  eps: number;
  weightDecay: number;
};

type ParamsArg = Iterable<Tensor> | Iterable<{ params: Iterable<Tensor> } & Partial<AdamOptions>>;

/**
 * Adam (Kingma & Ba, 2015) with PyTorch's semantics (`torch.optim.Adam`): weight decay is added to the gradient
 * (L2), the moments are bias-corrected:
 *   t ← t + 1;  g ← ∇ + weightDecay·θ;  m ← m + (1 − β₁)(g − m);  v ← β₂·v + (1 − β₂)·g²;
 *   θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + eps).
 * State: `step` (a number), `exp_avg`, `exp_avg_sq`.
 */
export class Adam extends Optimizer<AdamOptions> {
  /** AdamW decays the weights directly instead of through the gradient. */
  protected readonly decoupledWeightDecay: boolean = false;

  constructor(params: ParamsArg, options: Partial<AdamOptions> = {}) {
    super(params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, ...options });
  }

  protected override validate(g: ParamGroup<AdamOptions>): void {
    const name = this.constructor.name;
    if (!(g.lr >= 0)) throw new ValueError(`${name}: invalid learning rate ${g.lr}`);
    if (!(g.eps >= 0)) throw new ValueError(`${name}: invalid eps ${g.eps}`);
    g.betas.forEach((b, i) => {
      if (!(b >= 0 && b < 1)) throw new ValueError(`${name}: invalid beta parameter at index ${i}: ${b}`);
    });
    if (!(g.weightDecay >= 0)) throw new ValueError(`${name}: invalid weightDecay ${g.weightDecay}`);
  }

  protected override update(p: Tensor, grad: NDArray, g: ParamGroup<AdamOptions>, state: ParamState): void {
    const [beta1, beta2] = g.betas;
    const step = ((state.step as number | undefined) ?? 0) + 1;
    state.step = step;
    if (this.fused && canFuse(p.value, grad)) {
      this.updateFused(p, grad, g, state, step);
      return;
    }
    let param = p.value;
    if (g.weightDecay !== 0) {
      if (this.decoupledWeightDecay) param = param.mul(1 - g.lr * g.weightDecay);
      else grad = grad.add(param.mul(g.weightDecay));
    }
    const m0 = state.exp_avg as NDArray | undefined;
    const v0 = state.exp_avg_sq as NDArray | undefined;
    // First step: the zero-initialised moments reduce to (1 − β)·g and (1 − β₂)·g², computed the same way.
    const m = m0 ? m0.add(grad.sub(m0).mul(1 - beta1)) : grad.mul(1 - beta1);
    const v = v0 ? v0.mul(beta2).add(grad.mul(grad).mul(1 - beta2)) : grad.mul(grad).mul(1 - beta2);
    this.setState(state, "exp_avg", m);
    this.setState(state, "exp_avg_sq", v);
    const biasCorrection1 = 1 - beta1 ** step;
    const biasCorrection2Sqrt = Math.sqrt(1 - beta2 ** step);
    const stepSize = g.lr / biasCorrection1;
    const denom = v.sqrt().div(biasCorrection2Sqrt).add(g.eps);
    this.setParam(p, param.sub(m.div(denom).mul(stepSize)));
  }

  /** The same update as one fused pass per parameter (the same operations in the same order). */
  private updateFused(p: Tensor, grad: NDArray, g: ParamGroup<AdamOptions>, state: ParamState, step: number): void {
    const [beta1, beta2] = g.betas;
    const m0 = state.exp_avg as NDArray | undefined;
    const v0 = state.exp_avg_sq as NDArray | undefined;
    const decay = g.weightDecay !== 0;
    const variant = { decay, decoupled: this.decoupledWeightDecay, moments: m0 !== undefined && v0 !== undefined };
    const inputs = variant.moments ? [p.value, grad, m0!, v0!] : [p.value, grad];
    const params = [
      this.decoupledWeightDecay ? 1 - g.lr * g.weightDecay : g.weightDecay,
      1 - beta1,
      beta2,
      1 - beta2,
      Math.sqrt(1 - beta2 ** step),
      g.eps,
      g.lr / (1 - beta1 ** step),
    ];
    const [theta, m, v] = fused(adamUpdate(variant), inputs, params);
    this.setState(state, "exp_avg", m!);
    this.setState(state, "exp_avg_sq", v!);
    this.setParam(p, theta!);
  }
}

/** The fused update reads θ, ∇, m and v in one pass: one float dtype and one shape for all of them. */
function canFuse(param: NDArray, grad: NDArray): boolean {
  return isFloat(param.dtype) && grad.dtype === param.dtype && grad.shape.length === param.shape.length &&
    grad.shape.every((d, i) => d === param.shape[i]);
}

/**
 * AdamW (Loshchilov & Hutter, 2019), as `torch.optim.AdamW`: Adam whose weight decay shrinks the weights
 * directly, θ ← θ·(1 − lr·weightDecay), before the Adam update. Default weightDecay 0.01.
 */
export class AdamW extends Adam {
  protected override readonly decoupledWeightDecay: boolean = true;

  constructor(params: ParamsArg, options: Partial<AdamOptions> = {}) {
    super(params, { weightDecay: 1e-2, ...options });
  }
}

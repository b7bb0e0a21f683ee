import type { Tensor } from "@backprop/autograd";
import { fused, isFloat, type NDArray, ValueError } from "@backprop/tensor";
import { sgdUpdate } from "./fused_updates.ts";
import { Optimizer, type ParamGroup, type ParamState } from "./optimizer.ts";

export type SGDOptions = {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
};

/**
 * Stochastic gradient descent with PyTorch's semantics (`torch.optim.SGD`):
 *   g ← ∇ + weightDecay·θ;  with momentum μ: b ← g on the first step, else μ·b + (1 − dampening)·g,
 *   and g ← g + μ·b (Nesterov) or g ← b;  θ ← θ − lr·g.
 * State: `momentum_buffer`.
 */
export class SGD extends Optimizer<SGDOptions> {
  constructor(
    params: Iterable<Tensor> | Iterable<{ params: Iterable<Tensor> } & Partial<SGDOptions>>,
    options: Partial<SGDOptions> = {},
  ) {
    super(params, { lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, ...options });
  }

  protected override validate(g: ParamGroup<SGDOptions>): void {
    if (!(g.lr >= 0)) throw new ValueError(`SGD: invalid learning rate ${g.lr}`);
    if (!(g.momentum >= 0)) throw new ValueError(`SGD: invalid momentum ${g.momentum}`);
    if (!(g.weightDecay >= 0)) throw new ValueError(`SGD: invalid weightDecay ${g.weightDecay}`);
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) {
      throw new ValueError("SGD: Nesterov momentum needs momentum > 0 and dampening = 0");
    }
  }

  protected override update(p: Tensor, grad: NDArray, g: ParamGroup<SGDOptions>, state: ParamState): void {
    const sameLayout = isFloat(p.value.dtype) && grad.dtype === p.value.dtype &&
      grad.shape.length === p.value.shape.length && grad.shape.every((d, i) => d === p.value.shape[i]);
    if (this.fused && sameLayout) {
      // One pass: the same operations in the same order as below.
      const prev = state.momentum_buffer as NDArray | undefined;
      const variant = { decay: g.weightDecay !== 0, momentum: g.momentum !== 0, buffer: prev !== undefined, nesterov: g.nesterov };
      const inputs = variant.momentum && prev ? [p.value, grad, prev] : [p.value, grad];
      const [theta, buf] = fused(sgdUpdate(variant), inputs, [g.weightDecay, g.momentum, 1 - g.dampening, g.lr]);
      if (buf) this.setState(state, "momentum_buffer", buf);
      this.setParam(p, theta!);
      return;
    }
    let d = g.weightDecay !== 0 ? grad.add(p.value.mul(g.weightDecay)) : grad;
    if (g.momentum !== 0) {
      const prev = state.momentum_buffer as NDArray | undefined;
      const buf = prev ? prev.mul(g.momentum).add(d.mul(1 - g.dampening)) : d.clone();
      this.setState(state, "momentum_buffer", buf);
      d = g.nesterov ? d.add(buf.mul(g.momentum)) : buf;
    }
    this.setParam(p, p.value.sub(d.mul(g.lr)));
  }
}

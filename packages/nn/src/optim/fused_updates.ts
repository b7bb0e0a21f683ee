// The optimizers' update rules as expressions of @backprop/tensor's IR, so each parameter's update is one fused
// pass (read θ, ∇ and the state once, write them once) instead of a dozen whole-array ops. Each expression is
// the unfused chain's ops in the unfused order, so the results are the same bit for bit. Hyperparameters are
// parameters of the kernel, not constants: a learning-rate schedule does not compile a new kernel per step.
import { E, type Expr } from "@backprop/tensor";

const p = E.input(0), g = E.input(1);

/**
 * Each variant's expressions are built once and the same array returned on every step: fused then finds the
 * compiled program by the array's identity instead of rebuilding its key text for every parameter on every step.
 */
const adamUpdates: (readonly Expr[])[] = [];
const sgdUpdates: (readonly Expr[])[] = [];

/** A variant's slot in its cache: one bit per flag. */
function variantIndex(...flags: boolean[]): number {
  return flags.reduce((index, flag, bit) => index | (Number(flag) << bit), 0);
}

/** Which variant of Adam's rule: the compiled kernels differ, the hyperparameters do not. */
export interface AdamVariant {
  /** Weight decay applied at all (weightDecay ≠ 0). */
  decay: boolean;
  /** AdamW's decay of the weights rather than of the gradient. */
  decoupled: boolean;
  /** Moments exist (false on the first step, when they are zero). */
  moments: boolean;
}

/**
 * Inputs θ, ∇, m, v (m and v only with `moments`); parameters [decay factor (1 − lr·wd for AdamW, wd for Adam),
 * 1 − β₁, β₂, 1 − β₂, √(1 − β₂ᵗ), eps, lr / (1 − β₁ᵗ)]. Outputs [θ', m', v'].
 */
export function adamUpdate(v: AdamVariant): readonly Expr[] {
  return (adamUpdates[variantIndex(v.decay, v.decoupled, v.moments)] ??= buildAdamUpdate(v));
}

function buildAdamUpdate(v: AdamVariant): Expr[] {
  const [decay, oneMinusB1, b2, oneMinusB2, bc2Sqrt, eps, stepSize] = [0, 1, 2, 3, 4, 5, 6].map(E.param) as Expr[];
  const theta = v.decay && v.decoupled ? E.mul(p, decay!) : p;
  const grad = v.decay && !v.decoupled ? E.add(g, E.mul(p, decay!)) : g;
  const m0 = E.input(2), v0 = E.input(3);
  const m = v.moments ? E.add(m0, E.mul(E.sub(grad, m0), oneMinusB1!)) : E.mul(grad, oneMinusB1!);
  const sq = E.mul(E.mul(grad, grad), oneMinusB2!);
  const second = v.moments ? E.add(E.mul(v0, b2!), sq) : sq;
  const denom = E.add(E.div(E.sqrt(second), bc2Sqrt!), eps!);
  return [E.sub(theta, E.mul(E.div(m, denom), stepSize!)), m, second];
}

/** Which variant of SGD's rule. */
export interface SgdVariant {
  decay: boolean;
  /** momentum ≠ 0. */
  momentum: boolean;
  /** A momentum buffer exists (not on the first step). */
  buffer: boolean;
  nesterov: boolean;
}

/**
 * Inputs θ, ∇, buf (with `buffer`); parameters [weightDecay, momentum, 1 − dampening, lr]. Outputs [θ'] or,
 * with momentum, [θ', buf'].
 */
export function sgdUpdate(v: SgdVariant): readonly Expr[] {
  return (sgdUpdates[variantIndex(v.decay, v.momentum, v.buffer, v.nesterov)] ??= buildSgdUpdate(v));
}

function buildSgdUpdate(v: SgdVariant): Expr[] {
  const [wd, mu, oneMinusDampening, lr] = [0, 1, 2, 3].map(E.param) as Expr[];
  let d = v.decay ? E.add(g, E.mul(p, wd!)) : g;
  if (!v.momentum) return [E.sub(p, E.mul(d, lr!))];
  const buf = v.buffer ? E.add(E.mul(E.input(2), mu!), E.mul(d, oneMinusDampening!)) : d;
  d = v.nesterov ? E.add(d, E.mul(buf, mu!)) : buf;
  return [E.sub(p, E.mul(d, lr!)), buf];
}

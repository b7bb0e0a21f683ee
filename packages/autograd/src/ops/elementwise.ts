import * as T from "@backprop/tensor";
import type { BinaryOp, NDArray, UnaryOp } from "@backprop/tensor";
import { BINARY_BACKWARD, UNARY_BACKWARD } from "./derivatives.ts";
import { record } from "../record.ts";
import { Tensor } from "../tensor.ts";
import { unbroadcast } from "../unbroadcast.ts";

/** A tensor or a JS number; numbers broadcast like 0-d tensors and get no gradient. */
export type Operand = Tensor | number;

const arrayOf = (x: Operand): NDArray | number => (x instanceof Tensor ? x.value : x);
const tensorOrNull = (x: Operand): Tensor | null => (x instanceof Tensor ? x : null);
const shapeOf = (x: Operand): readonly number[] => (x instanceof Tensor ? x.shape : []);

/**
 * Binary op `op` of the op table, with its backward rule from BINARY_BACKWARD; each tensor operand's gradient is
 * summed back to its own shape. Ops without a rule (comparisons, logical ops) give a tensor without gradient.
 */
export function binaryOp(op: BinaryOp, a: Operand, b: Operand): Tensor {
  if (!(a instanceof Tensor) && !(b instanceof Tensor)) {
    throw new T.DTypeError(`${op}: needs at least one tensor operand`);
  }
  const av = arrayOf(a), bv = arrayOf(b);
  const out = T.binaryOp(op, av, bv);
  const backward = BINARY_BACKWARD[op];
  if (!backward) return new Tensor(out);
  return record(op, [tensorOrNull(a), tensorOrNull(b)], out, (g) => {
    const needs = [a instanceof Tensor && a.requiresGrad, b instanceof Tensor && b.requiresGrad] as const;
    const [ga, gb] = backward(g, av, bv, out, needs);
    return [ga && needs[0] ? unbroadcast(ga, shapeOf(a)) : null, gb && needs[1] ? unbroadcast(gb, shapeOf(b)) : null];
  });
}

/** a + b, broadcasting; each tensor operand's gradient is summed back to its own shape. */
export const add = (a: Operand, b: Operand): Tensor => binaryOp("add", a, b);
/** a − b, broadcasting. */
export const sub = (a: Operand, b: Operand): Tensor => binaryOp("sub", a, b);
/** a · b elementwise, broadcasting. */
export const mul = (a: Operand, b: Operand): Tensor => binaryOp("mul", a, b);
/** a / b elementwise, broadcasting. */
export const div = (a: Operand, b: Operand): Tensor => binaryOp("div", a, b);
/**
 * a ** b; the exponent's gradient (out · log a) is only formed when the exponent requires one. Where a formula
 * would give 0 · ∞ = NaN although the function is flat, the gradient is 0 (as PyTorch).
 */
export const pow = (a: Operand, b: Operand): Tensor => binaryOp("pow", a, b);
/** The larger of a and b; where they tie, each gets half the gradient (as PyTorch). */
export const maximum = (a: Operand, b: Operand): Tensor => binaryOp("maximum", a, b);
/** The smaller of a and b; where they tie, each gets half the gradient (as PyTorch). */
export const minimum = (a: Operand, b: Operand): Tensor => binaryOp("minimum", a, b);
/** a = b as a bool tensor (no gradient). */
export const eq = (a: Operand, b: Operand): Tensor => binaryOp("eq", a, b);
/** a ≠ b as a bool tensor (no gradient). */
export const ne = (a: Operand, b: Operand): Tensor => binaryOp("ne", a, b);
/** a < b as a bool tensor (no gradient). */
export const lt = (a: Operand, b: Operand): Tensor => binaryOp("lt", a, b);
/** a ≤ b as a bool tensor (no gradient). */
export const le = (a: Operand, b: Operand): Tensor => binaryOp("le", a, b);
/** a > b as a bool tensor (no gradient). */
export const gt = (a: Operand, b: Operand): Tensor => binaryOp("gt", a, b);
/** a ≥ b as a bool tensor (no gradient). */
export const ge = (a: Operand, b: Operand): Tensor => binaryOp("ge", a, b);
/** a ≠ 0 and b ≠ 0 as a bool tensor (no gradient). */
export const logicalAnd = (a: Operand, b: Operand): Tensor => binaryOp("logicalAnd", a, b);
/** a ≠ 0 or b ≠ 0 as a bool tensor (no gradient). */
export const logicalOr = (a: Operand, b: Operand): Tensor => binaryOp("logicalOr", a, b);

/** Unary op `op` of the op table, with its backward rule from UNARY_BACKWARD (`param`: ELU's alpha). */
export function unaryOp(op: UnaryOp, x: Tensor, param?: number): Tensor {
  const backward = UNARY_BACKWARD[op];
  const out = T.unaryOp(op, x.value, param);
  if (!backward) return new Tensor(out);
  return record(op, [x], out, (g) => [backward(g, x.value, out, param ?? 1)]);
}

/** −x. */
export const neg = (x: Tensor): Tensor => unaryOp("neg", x);
/** |x|; the gradient is sign(x), 0 at 0. */
export const abs = (x: Tensor): Tensor => unaryOp("abs", x);
/** −1, 0 or 1; piecewise constant, so its gradient is 0. */
export const sign = (x: Tensor): Tensor => unaryOp("sign", x);
/** eˣ. */
export const exp = (x: Tensor): Tensor => unaryOp("exp", x);
/** Natural logarithm. */
export const log = (x: Tensor): Tensor => unaryOp("log", x);
/** log(1 + x), accurate for small x. */
export const log1p = (x: Tensor): Tensor => unaryOp("log1p", x);
/** eˣ − 1, accurate for small x. */
export const expm1 = (x: Tensor): Tensor => unaryOp("expm1", x);
/** √x. */
export const sqrt = (x: Tensor): Tensor => unaryOp("sqrt", x);
/** 1 / √x. */
export const rsqrt = (x: Tensor): Tensor => unaryOp("rsqrt", x);
/** x². */
export const square = (x: Tensor): Tensor => unaryOp("square", x);
/** 1 / x. */
export const reciprocal = (x: Tensor): Tensor => unaryOp("reciprocal", x);
/** sin x. */
export const sin = (x: Tensor): Tensor => unaryOp("sin", x);
/** cos x. */
export const cos = (x: Tensor): Tensor => unaryOp("cos", x);
/** Hyperbolic tangent; the gradient is 1 − tanh². */
export const tanh = (x: Tensor): Tensor => unaryOp("tanh", x);
/** 1 / (1 + e⁻ˣ); the gradient is σ(1 − σ). */
export const sigmoid = (x: Tensor): Tensor => unaryOp("sigmoid", x);
/** ln(1 + eˣ), x itself above 20 (as PyTorch); the gradient is σ(x). */
export const softplus = (x: Tensor): Tensor => unaryOp("softplus", x);
/** max(x, 0); the gradient is 1 where x > 0 and 0 elsewhere (also at 0, as PyTorch). */
export const relu = (x: Tensor): Tensor => unaryOp("relu", x);
/** Rounds down; piecewise constant, so its gradient is 0. */
export const floor = (x: Tensor): Tensor => unaryOp("floor", x);
/** Rounds up; piecewise constant, so its gradient is 0. */
export const ceil = (x: Tensor): Tensor => unaryOp("ceil", x);
/** Rounds to the nearest integer (halves to even); piecewise constant, so its gradient is 0. */
export const round = (x: Tensor): Tensor => unaryOp("round", x);
/** x == 0 as a bool tensor (no gradient). */
export const logicalNot = (x: Tensor): Tensor => unaryOp("logicalNot", x);

/** ELU: x for x > 0, alpha·(eˣ − 1) otherwise; its slope there is out + alpha. */
export function elu(x: Tensor, alpha = 1): Tensor {
  return unaryOp("elu", x, alpha);
}

/** Limits to [min, max]; the gradient passes where min ≤ x ≤ max (as PyTorch). */
export function clamp(x: Tensor, min?: number, max?: number): Tensor {
  const out = T.clamp(x.value, min, max);
  return record("clamp", [x], out, (g) => {
    let inside = T.onesLike(x.value, { dtype: "bool" });
    if (min !== undefined) inside = T.logicalAnd(inside, x.value.ge(min));
    if (max !== undefined) inside = T.logicalAnd(inside, x.value.le(max));
    return [g.mul(inside.cast(g.dtype))];
  });
}

/** Elementwise choice; `cond` (bool) carries no gradient. */
export function where(cond: Tensor | NDArray, a: Operand, b: Operand): Tensor {
  const c = cond instanceof Tensor ? cond.value : cond;
  const out = T.where(c, arrayOf(a), arrayOf(b));
  return record("where", [tensorOrNull(a), tensorOrNull(b)], out, (g) => [
    a instanceof Tensor && a.requiresGrad ? unbroadcast(T.where(c, g, 0), a.shape) : null,
    b instanceof Tensor && b.requiresGrad ? unbroadcast(T.where(c, 0, g), b.shape) : null,
  ]);
}

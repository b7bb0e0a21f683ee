import * as T from "@backprop/tensor";
import type { NDArray, UnaryOp } from "@backprop/tensor";
import { UNARY_BACKWARD } from "./derivatives.ts";
import { record } from "../record.ts";
import { Tensor } from "../tensor.ts";
import { unbroadcast } from "../unbroadcast.ts";

/** A tensor or a JS number; numbers broadcast like 0-d tensors and get no gradient. */
export type Operand = Tensor | number;

const arrayOf = (x: Operand): NDArray | number => (x instanceof Tensor ? x.value : x);
const tensorOrNull = (x: Operand): Tensor | null => (x instanceof Tensor ? x : null);
const shapeOf = (x: Operand): readonly number[] => (x instanceof Tensor ? x.shape : []);

function binary(
  name: string,
  a: Operand,
  b: Operand,
  forward: (a: NDArray | number, b: NDArray | number) => NDArray,
  backward: (g: NDArray, out: NDArray) => [NDArray | null, NDArray | null],
): Tensor {
  if (!(a instanceof Tensor) && !(b instanceof Tensor)) {
    throw new T.DTypeError(`${name}: needs at least one tensor operand`);
  }
  const out = forward(arrayOf(a), arrayOf(b));
  return record(name, [tensorOrNull(a), tensorOrNull(b)], out, (g) => {
    const [ga, gb] = backward(g, out);
    return [
      ga && a instanceof Tensor && a.requiresGrad ? unbroadcast(ga, shapeOf(a)) : null,
      gb && b instanceof Tensor && b.requiresGrad ? unbroadcast(gb, shapeOf(b)) : null,
    ];
  });
}

/** a + b, broadcasting; each tensor operand's gradient is summed back to its own shape. */
export const add = (a: Operand, b: Operand): Tensor => binary("add", a, b, T.add, (g) => [g, g]);
/** a − b, broadcasting. */
export const sub = (a: Operand, b: Operand): Tensor => binary("sub", a, b, T.sub, (g) => [g, g.neg()]);
/** a · b elementwise, broadcasting. */
export const mul = (a: Operand, b: Operand): Tensor =>
  binary("mul", a, b, T.mul, (g) => [T.mul(g, arrayOf(b)), T.mul(g, arrayOf(a))]);
/** a / b elementwise, broadcasting. */
export const div = (a: Operand, b: Operand): Tensor =>
  binary("div", a, b, T.div, (g, out) => [
    T.div(g, arrayOf(b)),
    b instanceof Tensor && b.requiresGrad ? T.div(g.mul(out), arrayOf(b)).neg() : null,
  ]);

/**
 * a ** b; the exponent's gradient (out · log a) is only formed when the exponent requires one. Where a formula
 * would give 0 · ∞ = NaN although the function is flat, the gradient is 0 (as PyTorch): b = 0 makes a ** b
 * constant in a, and a = 0 with b ≥ 0 makes it constant in b.
 */
export const pow = (a: Operand, b: Operand): Tensor =>
  binary("pow", a, b, T.pow, (g, out) => {
    const av = arrayOf(a), bv = arrayOf(b);
    let ga: NDArray | null = null, gb: NDArray | null = null;
    if (a instanceof Tensor && a.requiresGrad) {
      if (typeof bv === "number") ga = bv === 0 ? T.zerosLike(g) : T.mul(g, T.mul(T.pow(av, bv - 1), bv));
      else ga = T.mul(g, T.where(T.eq(bv, 0), 0, T.mul(bv, T.pow(av, T.sub(bv, 1)))));
    }
    if (b instanceof Tensor && b.requiresGrad) {
      // The base may be a JS number (2 ** x): its log is a number, not an array.
      const raw = T.mul(g, T.mul(out, typeof av === "number" ? Math.log(av) : T.log(av)));
      const flat = typeof av === "number" ? (av === 0 ? T.ge(b.value, 0) : null) : T.logicalAnd(T.eq(av, 0), T.ge(b.value, 0));
      gb = flat ? T.where(flat, 0, raw) : raw;
    }
    return [ga, gb];
  });

/** The larger of a and b; where they tie, each gets half the gradient (as PyTorch). */
export const maximum = (a: Operand, b: Operand): Tensor => extremum("maximum", a, b, T.maximum, T.gt);
/** The smaller of a and b; where they tie, each gets half the gradient (as PyTorch). */
export const minimum = (a: Operand, b: Operand): Tensor => extremum("minimum", a, b, T.minimum, T.lt);

function extremum(
  name: string,
  a: Operand,
  b: Operand,
  forward: (a: NDArray | number, b: NDArray | number) => NDArray,
  wins: (a: NDArray | number, b: NDArray | number) => NDArray,
): Tensor {
  return binary(name, a, b, forward, (g) => {
    const av = arrayOf(a), bv = arrayOf(b);
    const aWins = wins(av, bv).cast(g.dtype), tie = T.eq(av, bv).cast(g.dtype);
    const aShare = aWins.add(tie.mul(0.5));
    return [g.mul(aShare), g.mul(T.sub(1, aShare))];
  });
}

/** Unary op `op` of the op table, with its backward rule from UNARY_BACKWARD. */
function unary(op: UnaryOp, x: Tensor, param?: number): Tensor {
  const backward = UNARY_BACKWARD[op];
  const out = T.unaryOp(op, x.value, param);
  if (!backward) return new Tensor(out);
  return record(op, [x], out, (g) => [backward(g, x.value, out, param ?? 1)]);
}

/** −x. */
export const neg = (x: Tensor): Tensor => unary("neg", x);
/** |x|; the gradient is sign(x), 0 at 0. */
export const abs = (x: Tensor): Tensor => unary("abs", x);
/** −1, 0 or 1; piecewise constant, so its gradient is 0. */
export const sign = (x: Tensor): Tensor => unary("sign", x);
/** eˣ. */
export const exp = (x: Tensor): Tensor => unary("exp", x);
/** Natural logarithm. */
export const log = (x: Tensor): Tensor => unary("log", x);
/** log(1 + x), accurate for small x. */
export const log1p = (x: Tensor): Tensor => unary("log1p", x);
/** eˣ − 1, accurate for small x. */
export const expm1 = (x: Tensor): Tensor => unary("expm1", x);
/** √x. */
export const sqrt = (x: Tensor): Tensor => unary("sqrt", x);
/** 1 / √x. */
export const rsqrt = (x: Tensor): Tensor => unary("rsqrt", x);
/** x². */
export const square = (x: Tensor): Tensor => unary("square", x);
/** 1 / x. */
export const reciprocal = (x: Tensor): Tensor => unary("reciprocal", x);
/** sin x. */
export const sin = (x: Tensor): Tensor => unary("sin", x);
/** cos x. */
export const cos = (x: Tensor): Tensor => unary("cos", x);
/** Hyperbolic tangent; the gradient is 1 − tanh². */
export const tanh = (x: Tensor): Tensor => unary("tanh", x);
/** 1 / (1 + e⁻ˣ); the gradient is σ(1 − σ). */
export const sigmoid = (x: Tensor): Tensor => unary("sigmoid", x);
/** max(x, 0); the gradient is 1 where x > 0 and 0 elsewhere (also at 0, as PyTorch). */
export const relu = (x: Tensor): Tensor => unary("relu", x);
/** Rounds down; piecewise constant, so its gradient is 0. */
export const floor = (x: Tensor): Tensor => unary("floor", x);
/** Rounds up; piecewise constant, so its gradient is 0. */
export const ceil = (x: Tensor): Tensor => unary("ceil", x);
/** Rounds to the nearest integer (halves to even); piecewise constant, so its gradient is 0. */
export const round = (x: Tensor): Tensor => unary("round", x);

/** ELU: x for x > 0, alpha·(eˣ − 1) otherwise; its slope there is out + alpha. */
export function elu(x: Tensor, alpha = 1): Tensor {
  return unary("elu", x, alpha);
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

/** Comparisons give bool tensors, which carry no gradient. */
export const eq = (a: Tensor, b: Operand): Tensor => new Tensor(T.eq(a.value, arrayOf(b)));
/** a ≠ b as a bool tensor (no gradient). */
export const ne = (a: Tensor, b: Operand): Tensor => new Tensor(T.ne(a.value, arrayOf(b)));
/** a < b as a bool tensor (no gradient). */
export const lt = (a: Tensor, b: Operand): Tensor => new Tensor(T.lt(a.value, arrayOf(b)));
/** a ≤ b as a bool tensor (no gradient). */
export const le = (a: Tensor, b: Operand): Tensor => new Tensor(T.le(a.value, arrayOf(b)));
/** a > b as a bool tensor (no gradient). */
export const gt = (a: Tensor, b: Operand): Tensor => new Tensor(T.gt(a.value, arrayOf(b)));
/** a ≥ b as a bool tensor (no gradient). */
export const ge = (a: Tensor, b: Operand): Tensor => new Tensor(T.ge(a.value, arrayOf(b)));

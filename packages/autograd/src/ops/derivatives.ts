// The backward rule of every elementwise op, one entry per op of @backprop/tensor's UNARY_TABLE and BINARY_TABLE
// (the Record types make a missing entry a compile error). `x` is the input, `out` the forward result, `param`
// the op's scalar argument (ELU's alpha); `null` marks ops without a gradient (bool results).
import * as T from "@backprop/tensor";
import type { BinaryOp, NDArray, UnaryOp } from "@backprop/tensor";

/** The gradient with respect to x, from the output gradient `g`. */
export type UnaryBackward = (g: NDArray, x: NDArray, out: NDArray, param: number) => NDArray;

const zeros: UnaryBackward = (g) => T.zerosLike(g);

/** g · (x > 0): one module-level array, so the fused program is found by identity (see tensor's fused). */
const RELU_GRAD = [T.E.mul(T.E.input(0), T.E.gt(T.E.input(1), T.E.constant(0)))];

export const UNARY_BACKWARD: Readonly<Record<UnaryOp, UnaryBackward | null>> = {
  neg: (g) => g.neg(),
  // sign(x), 0 at 0.
  abs: (g, x) => g.mul(x.sign()),
  // Piecewise constant.
  sign: zeros,
  exp: (g, _x, out) => g.mul(out),
  log: (g, x) => g.div(x),
  log1p: (g, x) => g.div(x.add(1)),
  expm1: (g, _x, out) => g.mul(out.add(1)),
  sqrt: (g, _x, out) => g.div(out.mul(2)),
  rsqrt: (g, _x, out) => g.mul(out.pow(3)).mul(-0.5),
  square: (g, x) => g.mul(x).mul(2),
  reciprocal: (g, _x, out) => g.mul(out.square()).neg(),
  sin: (g, x) => g.mul(T.cos(x)),
  cos: (g, x) => g.mul(T.sin(x)).neg(),
  // 1 − tanh².
  tanh: (g, _x, out) => g.mul(T.sub(1, out.square())),
  // σ(1 − σ).
  sigmoid: (g, _x, out) => g.mul(out.mul(T.sub(1, out))),
  // σ(x), and 1 above the threshold where softplus is x itself (as PyTorch).
  softplus: (g, x) => g.mul(T.where(x.gt(20), 1, x.sigmoid())),
  // 1 where x > 0 and 0 elsewhere (also at 0, as PyTorch): g · (x > 0) in one fused pass.
  relu: (g, x) => T.fused(RELU_GRAD, [g, x])[0]!,
  // The slope below 0 is out + alpha.
  elu: (g, x, out, alpha) => g.mul(T.where(x.gt(0), 1, out.add(alpha))),
  floor: zeros,
  ceil: zeros,
  round: zeros,
  logicalNot: null,
};

/** An operand's value: an array, or a JS number (which gets no gradient). */
type Value = NDArray | number;

/**
 * The gradients with respect to a and b, from the output gradient `g`, before they are summed back to each
 * operand's shape; `needs[i]` says whether operand i wants one (a rule may skip costly work for the other).
 */
export type BinaryBackward = (g: NDArray, a: Value, b: Value, out: NDArray, needs: readonly [boolean, boolean]) => [NDArray | null, NDArray | null];

/** Where a and b tie, each gets half the gradient (as PyTorch). */
function extremum(wins: (a: Value, b: Value) => NDArray): BinaryBackward {
  return (g, a, b) => {
    const aWins = wins(a, b).cast(g.dtype), tie = T.eq(a, b).cast(g.dtype);
    const aShare = aWins.add(tie.mul(0.5));
    return [g.mul(aShare), g.mul(T.sub(1, aShare))];
  };
}

export const BINARY_BACKWARD: Readonly<Record<BinaryOp, BinaryBackward | null>> = {
  add: (g) => [g, g],
  sub: (g) => [g, g.neg()],
  mul: (g, a, b, _out, needs) => [needs[0] ? T.mul(g, b) : null, needs[1] ? T.mul(g, a) : null],
  div: (g, _a, b, out, needs) => [needs[0] ? T.div(g, b) : null, needs[1] ? T.div(g.mul(out), b).neg() : null],
  // Where a formula would give 0 · ∞ = NaN although the function is flat, the gradient is 0 (as PyTorch): b = 0
  // makes a ** b constant in a, and a = 0 with b ≥ 0 makes it constant in b. The exponent's gradient
  // (out · log a) is only formed when it is needed.
  pow: (g, a, b, out, needs) => {
    let ga: NDArray | null = null, gb: NDArray | null = null;
    if (needs[0]) {
      if (typeof b === "number") ga = b === 0 ? T.zerosLike(g) : T.mul(g, T.mul(T.pow(a, b - 1), b));
      else ga = T.mul(g, T.where(T.eq(b, 0), 0, T.mul(b, T.pow(a, T.sub(b, 1)))));
    }
    if (needs[1]) {
      // The base may be a JS number (2 ** x): its log is a number, not an array.
      const raw = T.mul(g, T.mul(out, typeof a === "number" ? Math.log(a) : T.log(a)));
      const flat = typeof a === "number" ? (a === 0 ? T.ge(b, 0) : null) : T.logicalAnd(T.eq(a, 0), T.ge(b, 0));
      gb = flat ? T.where(flat, 0, raw) : raw;
    }
    return [ga, gb];
  },
  maximum: extremum(T.gt),
  minimum: extremum(T.lt),
  eq: null,
  ne: null,
  lt: null,
  le: null,
  gt: null,
  ge: null,
  logicalAnd: null,
  logicalOr: null,
};

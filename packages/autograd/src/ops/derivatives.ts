// The backward rule of every unary elementwise op, one entry per op of @backprop/tensor's UNARY_TABLE (the
// Record type makes a missing entry a compile error). `x` is the input, `out` the forward result, `param` the
// op's scalar argument (ELU's alpha); `null` marks ops without a gradient (bool results).
import * as T from "@backprop/tensor";
import type { NDArray, UnaryOp } from "@backprop/tensor";

/** The gradient with respect to x, from the output gradient `g`. */
export type UnaryBackward = (g: NDArray, x: NDArray, out: NDArray, param: number) => NDArray;

const zeros: UnaryBackward = (g) => T.zerosLike(g);

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
  // 1 where x > 0 and 0 elsewhere (also at 0, as PyTorch).
  relu: (g, x) => g.mul(x.gt(0).cast(g.dtype)),
  // The slope below 0 is out + alpha.
  elu: (g, x, out, alpha) => g.mul(T.where(x.gt(0), 1, out.add(alpha))),
  floor: zeros,
  ceil: zeros,
  round: zeros,
  logicalNot: null,
};

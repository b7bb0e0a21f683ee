import type { BinaryOp, UnaryOp } from "../backend.ts";
import type { DType } from "../dtype.ts";
import { DTypeError, fmtShape, ValueError } from "../errors.ts";
import { NDArray } from "../ndarray.ts";
import { broadcastShapes } from "../shape.ts";
import { binaryDef, BOOL_BINARY_OPS, type ParamUnaryOp, unaryDef } from "./op_table.ts";
import { broadcastPair, broadcastTo, disposeAll, type Operand, resultDtype, sameDevice, scalarArray } from "./operands.ts";

/**
 * One method per op of the op table, for the array classes (`NDArray`, autograd's `Tensor`): binary ops take the
 * other operand, unary ops nothing (or their optional scalar argument). A class that `implements` this type and
 * lacks a method for some table op does not compile, so a new table entry cannot be forgotten in a facade.
 */
export type ElementwiseMethods<Self, Other> =
  & { readonly [K in BinaryOp]: (other: Other) => Self }
  & { readonly [K in Exclude<UnaryOp, ParamUnaryOp>]: () => Self }
  & { readonly [K in ParamUnaryOp]: (param?: number) => Self };

function describe(x: Operand): string {
  return x instanceof NDArray ? `${x.dtype} ${fmtShape(x.shape)}` : String(x);
}

/** Binary op `op` by its name in the op table (what the named functions below call). */
export function binaryOp(op: BinaryOp, a: Operand, b: Operand): NDArray {
  let dtype = resultDtype(a, b);
  const def = binaryDef(op);
  // True division, as PyTorch: integers divide into float32.
  if (def.intsToFloat && (dtype === "int32" || dtype === "bool")) dtype = "float32";
  if (def.onBool === "int32" && dtype === "bool") dtype = "int32";
  // Bool arrays hold only 0 and 1: sums and products of bools are logical or/and, as in PyTorch.
  if (dtype === "bool" && (def.onBool === "logicalOr" || def.onBool === "logicalAnd")) op = def.onBool;
  if (def.onBool === "error" && dtype === "bool") {
    throw new DTypeError(`sub: subtracting bool arrays is not supported (${describe(a)} - ${describe(b)}); use ne() for exclusive or, or cast to int32 first`);
  }
  const { a: av, b: bv, shape, temporaries } = broadcastPair(op, a, b, dtype);
  try {
    // Operands of another dtype are cast first, so the kernel sees one compute dtype.
    const ac = av.dtype === dtype ? av : av.cast(dtype);
    const bc = bv.dtype === dtype ? bv : bv.cast(dtype);
    if (ac !== av) temporaries.push(ac);
    if (bc !== bv) temporaries.push(bc);
    const outDtype: DType = BOOL_BINARY_OPS.has(op) ? "bool" : dtype;
    return new NDArray(ac.backend.binary(op, ac, bc, shape, outDtype), shape);
  } finally {
    disposeAll(temporaries);
  }
}

/** Elementwise a + b with broadcasting (bool: logical or). */
export const add = (a: Operand, b: Operand): NDArray => binaryOp("add", a, b);
/** Elementwise a − b with broadcasting (not for two bools). */
export const sub = (a: Operand, b: Operand): NDArray => binaryOp("sub", a, b);
/** Elementwise a · b with broadcasting (bool: logical and). */
export const mul = (a: Operand, b: Operand): NDArray => binaryOp("mul", a, b);
/** Elementwise true division a / b; integers divide into float32. */
export const div = (a: Operand, b: Operand): NDArray => binaryOp("div", a, b);
/** Elementwise aᵇ. */
export const pow = (a: Operand, b: Operand): NDArray => binaryOp("pow", a, b);
/** Elementwise larger of a and b; NaN propagates. */
export const maximum = (a: Operand, b: Operand): NDArray => binaryOp("maximum", a, b);
/** Elementwise smaller of a and b; NaN propagates. */
export const minimum = (a: Operand, b: Operand): NDArray => binaryOp("minimum", a, b);
/** Elementwise a == b, as bool. */
export const eq = (a: Operand, b: Operand): NDArray => binaryOp("eq", a, b);
/** Elementwise a != b, as bool. */
export const ne = (a: Operand, b: Operand): NDArray => binaryOp("ne", a, b);
/** Elementwise a < b, as bool. */
export const lt = (a: Operand, b: Operand): NDArray => binaryOp("lt", a, b);
/** Elementwise a <= b, as bool. */
export const le = (a: Operand, b: Operand): NDArray => binaryOp("le", a, b);
/** Elementwise a > b, as bool. */
export const gt = (a: Operand, b: Operand): NDArray => binaryOp("gt", a, b);
/** Elementwise a >= b, as bool. */
export const ge = (a: Operand, b: Operand): NDArray => binaryOp("ge", a, b);
/** Elementwise a ≠ 0 and b ≠ 0, as bool. */
export const logicalAnd = (a: Operand, b: Operand): NDArray => binaryOp("logicalAnd", a, b);
/** Elementwise a ≠ 0 or b ≠ 0, as bool. */
export const logicalOr = (a: Operand, b: Operand): NDArray => binaryOp("logicalOr", a, b);

/** Unary op `op` by its name in the op table; `param` is the op's scalar argument (ELU's alpha). */
export function unaryOp(op: UnaryOp, x: NDArray, param?: number): NDArray {
  sameDevice(op, x);
  let outDtype: DType = x.dtype;
  const def = unaryDef(op);
  if (def.bool) outDtype = "bool";
  else if (x.dtype === "bool" || x.dtype === "int32") {
    if (op === "neg" && x.dtype === "bool") {
      throw new DTypeError(`neg: not defined for bool arrays (shape ${fmtShape(x.shape)}); use logicalNot`);
    }
    outDtype = def.ints === "keep" ? (x.dtype === "bool" ? "int32" : x.dtype) : "float32";
  }
  const input = x.dtype === outDtype || def.bool ? x : x.cast(outDtype);
  try {
    return new NDArray(input.backend.unary(op, input, outDtype, param), x.shape);
  } finally {
    if (input !== x) input.dispose();
  }
}

/** −x (int32 stays int32; not for bool). */
export const neg = (x: NDArray): NDArray => unaryOp("neg", x);
/** |x|. */
export const abs = (x: NDArray): NDArray => unaryOp("abs", x);
/** −1, 0 or 1 by the sign of x. */
export const sign = (x: NDArray): NDArray => unaryOp("sign", x);
/** eˣ. */
export const exp = (x: NDArray): NDArray => unaryOp("exp", x);
/** Natural logarithm. */
export const log = (x: NDArray): NDArray => unaryOp("log", x);
/** ln(1 + x), accurate for small x. */
export const log1p = (x: NDArray): NDArray => unaryOp("log1p", x);
/** eˣ − 1, accurate for small x. */
export const expm1 = (x: NDArray): NDArray => unaryOp("expm1", x);
/** √x. */
export const sqrt = (x: NDArray): NDArray => unaryOp("sqrt", x);
/** 1 / √x. */
export const rsqrt = (x: NDArray): NDArray => unaryOp("rsqrt", x);
/** x². */
export const square = (x: NDArray): NDArray => unaryOp("square", x);
/** 1 / x. */
export const reciprocal = (x: NDArray): NDArray => unaryOp("reciprocal", x);
/** Sine. */
export const sin = (x: NDArray): NDArray => unaryOp("sin", x);
/** Cosine. */
export const cos = (x: NDArray): NDArray => unaryOp("cos", x);
/** Hyperbolic tangent. */
export const tanh = (x: NDArray): NDArray => unaryOp("tanh", x);
/** Logistic function 1 / (1 + e⁻ˣ), without overflow. */
export const sigmoid = (x: NDArray): NDArray => unaryOp("sigmoid", x);
/** ln(1 + eˣ), x itself above 20 (PyTorch's softplus, beta = 1, threshold = 20). */
export const softplus = (x: NDArray): NDArray => unaryOp("softplus", x);
/** max(x, 0). */
export const relu = (x: NDArray): NDArray => unaryOp("relu", x);
/** Largest integer ≤ x. */
export const floor = (x: NDArray): NDArray => unaryOp("floor", x);
/** Smallest integer ≥ x. */
export const ceil = (x: NDArray): NDArray => unaryOp("ceil", x);
/** Nearest integer, halves to even (as PyTorch). */
export const round = (x: NDArray): NDArray => unaryOp("round", x);
/** x == 0, as bool. */
export const logicalNot = (x: NDArray): NDArray => unaryOp("logicalNot", x);

/** ELU: x for x > 0, alpha·(eˣ − 1) otherwise. */
export function elu(x: NDArray, alpha = 1): NDArray {
  return unaryOp("elu", x, alpha);
}

/** Picks `a` where `cond` is true and `b` elsewhere, with broadcasting of all three. */
export function where(cond: NDArray, a: Operand, b: Operand): NDArray {
  if (cond.dtype !== "bool") {
    throw new DTypeError(`where: the condition must be a bool array, got ${cond.dtype} of shape ${fmtShape(cond.shape)}`);
  }
  const dtype = resultDtype(a, b);
  const temporaries: NDArray[] = [];
  const toArray = (v: Operand): NDArray => {
    if (v instanceof NDArray) {
      if (v.dtype === dtype) return v;
      const c = v.cast(dtype);
      temporaries.push(c);
      return c;
    }
    const s = scalarArray(v, dtype, cond);
    temporaries.push(s);
    return s;
  };
  const A = toArray(a), B = toArray(b);
  try {
    sameDevice("where", cond, A, B);
    const shape = broadcastShapes("where", cond.shape, A.shape, B.shape);
    const [c, av, bv] = [broadcastTo(cond, shape), broadcastTo(A, shape), broadcastTo(B, shape)];
    for (const [view, of] of [[c, cond], [av, A], [bv, B]] as const) if (view !== of) temporaries.push(view);
    return new NDArray(cond.backend.where(c, av, bv, shape, dtype), shape);
  } finally {
    disposeAll(temporaries);
  }
}

/** Limits values to [min, max] (either bound may be omitted). */
export function clamp(x: NDArray, min?: number, max?: number): NDArray {
  if (min === undefined && max === undefined) throw new ValueError("clamp: give at least one of min and max");
  if (min !== undefined && max !== undefined && min > max) {
    throw new ValueError(`clamp: min ${min} is greater than max ${max}`);
  }
  let out = x;
  if (min !== undefined) out = maximum(out, min);
  if (max !== undefined) {
    const next = minimum(out, max);
    if (out !== x) out.dispose();
    out = next;
  }
  return out;
}

// Every elementwise op, defined once: its dtype rule, its float64 reference and its scalar expression. The
// Backend's op names, the CPU kernels' scalar functions, the WebGPU kernels' WGSL, the float64 reference of the
// conformance suite and its op lists are all derived from these two tables. Adding an op: one entry here, its
// backward rule in @backprop/autograd's table, its docs (see the package README).
import { E, type Expr, input, param } from "../expr/ir.ts";
import { powC, roundHalfEven } from "../expr/evaluate.ts";

const x: Expr = input(0);
const a: Expr = input(0), b: Expr = input(1);

/** A function of one value. */
export interface UnaryDef {
  /** One line for the docs. */
  readonly doc: string;
  /** Integer and bool inputs: keep an integral dtype (bool becomes int32) or compute in float32 (as PyTorch). */
  readonly ints: "keep" | "float";
  /** The result is bool whatever the input (logicalNot). */
  readonly bool?: true;
  /** Zero results carry a sign every backend reproduces (IEEE-754 and torch 1.13 agree, e.g. sqrt(−0) = −0). */
  readonly signedZero: boolean;
  /** The value in float64, written directly (not from `expr`), so the expression is checked against it. */
  readonly f64: (x: number, alpha: number) => number;
  /** The expression over input 0; `param(0)` is the op's scalar argument (ELU's alpha). */
  readonly expr: Expr;
}

/** A function of two values. */
export interface BinaryDef {
  /** One line for the docs. */
  readonly doc: string;
  /** Comparisons and logical ops give bool. */
  readonly bool?: true;
  /** Two integer (or bool) operands compute in float32 (true division). */
  readonly intsToFloat?: true;
  /** What the op becomes on two bools, which hold only 0 and 1 (PyTorch: bool + bool is logical or). */
  readonly onBool?: "logicalOr" | "logicalAnd" | "int32" | "error";
  /** Zero results carry a sign every backend reproduces. */
  readonly signedZero: boolean;
  /** The value in float64, written directly (not from `expr`), so the expression is checked against it. */
  readonly f64: (a: number, b: number) => number;
  /** The expression over inputs 0 and 1. */
  readonly expr: Expr;
}

/** Elementwise functions of one operand (the `unary` kernel); each has its entry in UNARY_TABLE. */
export type UnaryOp =
  | "neg" | "abs" | "sign" | "exp" | "log" | "log1p" | "expm1" | "sqrt" | "rsqrt" | "square" | "reciprocal"
  | "sin" | "cos" | "tanh" | "sigmoid" | "softplus" | "relu" | "elu" | "floor" | "ceil" | "round" | "logicalNot";

/** Unary ops with a scalar argument (their expression reads `param(0)`): their methods and functions take it. */
export type ParamUnaryOp = "elu";

/**
 * Elementwise functions of two operands (the `binary` kernel); comparisons and logical ops produce bool. Each has
 * its entry in BINARY_TABLE (the compiler checks that the names and the entries agree).
 */
export type BinaryOp =
  | "add" | "sub" | "mul" | "div" | "pow" | "maximum" | "minimum"
  | "eq" | "ne" | "lt" | "le" | "gt" | "ge" | "logicalAnd" | "logicalOr";

/** The unary ops (the `unary` kernel). */
export const UNARY_TABLE: Readonly<Record<UnaryOp, UnaryDef>> = {
  neg: { doc: "−x (int32 stays int32; not for bool)", ints: "keep", signedZero: true, f64: (x) => -x, expr: E.neg(x) },
  abs: { doc: "|x|", ints: "keep", signedZero: true, f64: Math.abs, expr: E.abs(x) },
  sign: {
    doc: "−1, 0 or 1 by the sign of x (NaN stays NaN)",
    ints: "keep",
    signedZero: false,
    // NaN stays NaN, as NumPy; PyTorch gives 0 there, a known bug (pytorch/pytorch#41245).
    f64: (x) => (x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : NaN),
    expr: E.select(E.gt(x, 0), 1, E.select(E.lt(x, 0), -1, E.select(E.eq(x, 0), 0, x))),
  },
  exp: { doc: "eˣ", ints: "float", signedZero: false, f64: Math.exp, expr: E.exp(x) },
  log: { doc: "natural logarithm", ints: "float", signedZero: false, f64: Math.log, expr: E.log(x) },
  log1p: { doc: "ln(1 + x), accurate for small x", ints: "float", signedZero: true, f64: Math.log1p, expr: E.log1p(x) },
  expm1: { doc: "eˣ − 1, accurate for small x", ints: "float", signedZero: true, f64: Math.expm1, expr: E.expm1(x) },
  sqrt: { doc: "√x", ints: "float", signedZero: true, f64: Math.sqrt, expr: E.sqrt(x) },
  rsqrt: { doc: "1 / √x", ints: "float", signedZero: false, f64: (x) => 1 / Math.sqrt(x), expr: E.div(1, E.sqrt(x)) },
  square: { doc: "x²", ints: "keep", signedZero: true, f64: (x) => x * x, expr: E.mul(x, x) },
  reciprocal: { doc: "1 / x", ints: "float", signedZero: false, f64: (x) => 1 / x, expr: E.div(1, x) },
  sin: { doc: "sine", ints: "float", signedZero: true, f64: Math.sin, expr: E.sin(x) },
  cos: { doc: "cosine", ints: "float", signedZero: false, f64: Math.cos, expr: E.cos(x) },
  tanh: { doc: "hyperbolic tangent", ints: "float", signedZero: true, f64: Math.tanh, expr: E.tanh(x) },
  sigmoid: {
    doc: "logistic function 1 / (1 + e⁻ˣ), without overflow",
    ints: "float",
    signedZero: false,
    f64: (x) => 1 / (1 + Math.exp(-x)),
    // e^−|x| never overflows; the two branches are the same function, each exact where it is chosen.
    expr: (() => {
      const e = E.exp(E.neg(E.abs(x)));
      return E.select(E.ge(x, 0), E.div(1, E.add(1, e)), E.div(e, E.add(1, e)));
    })(),
  },
  softplus: {
    doc: "ln(1 + eˣ), x itself above 20 (PyTorch's beta = 1, threshold = 20)",
    ints: "float",
    signedZero: false,
    f64: (x) => (x > 20 ? x : Math.log1p(Math.exp(x))),
    expr: E.select(E.gt(x, 20), x, E.log1p(E.exp(x))),
  },
  relu: {
    doc: "max(x, 0); NaN propagates (torch.relu(nan) = nan)",
    ints: "keep",
    signedZero: false,
    f64: (x) => (x > 0 || x !== x ? x : 0),
    expr: E.select(E.le(x, 0), 0, x),
  },
  elu: {
    doc: "ELU: x for x > 0, alpha·(eˣ − 1) otherwise",
    ints: "float",
    signedZero: false,
    f64: (x, alpha) => (x > 0 ? x : alpha * Math.expm1(x)),
    expr: E.select(E.gt(x, 0), x, E.mul(param(0), E.expm1(x))),
  },
  floor: { doc: "largest integer ≤ x", ints: "keep", signedZero: true, f64: Math.floor, expr: E.floor(x) },
  ceil: { doc: "smallest integer ≥ x", ints: "keep", signedZero: true, f64: Math.ceil, expr: E.ceil(x) },
  round: { doc: "nearest integer, halves to even (as PyTorch)", ints: "keep", signedZero: true, f64: roundHalfEven, expr: E.round(x) },
  logicalNot: { doc: "x == 0, as bool", ints: "keep", bool: true, signedZero: false, f64: (x) => (x === 0 ? 1 : 0), expr: E.eq(x, 0) },
};

/** The binary ops (the `binary` kernel). */
export const BINARY_TABLE: Readonly<Record<BinaryOp, BinaryDef>> = {
  add: { doc: "a + b (bool: logical or)", onBool: "logicalOr", signedZero: true, f64: (a, b) => a + b, expr: E.add(a, b) },
  sub: { doc: "a − b (not for two bools)", onBool: "error", signedZero: true, f64: (a, b) => a - b, expr: E.sub(a, b) },
  mul: { doc: "a · b (bool: logical and)", onBool: "logicalAnd", signedZero: true, f64: (a, b) => a * b, expr: E.mul(a, b) },
  div: { doc: "true division a / b; integers divide into float32", intsToFloat: true, signedZero: true, f64: (a, b) => a / b, expr: E.div(a, b) },
  pow: { doc: "aᵇ, C's pow (pow(1, NaN) = 1)", onBool: "int32", signedZero: false, f64: powC, expr: E.pow(a, b) },
  maximum: { doc: "larger of a and b; NaN propagates", onBool: "logicalOr", signedZero: false, f64: (a, b) => Math.max(a, b), expr: E.max(a, b) },
  minimum: { doc: "smaller of a and b; NaN propagates", onBool: "logicalAnd", signedZero: false, f64: (a, b) => Math.min(a, b), expr: E.min(a, b) },
  eq: { doc: "a == b, as bool", bool: true, signedZero: false, f64: (a, b) => (a === b ? 1 : 0), expr: E.eq(a, b) },
  ne: { doc: "a != b, as bool", bool: true, signedZero: false, f64: (a, b) => (a !== b ? 1 : 0), expr: E.ne(a, b) },
  lt: { doc: "a < b, as bool", bool: true, signedZero: false, f64: (a, b) => (a < b ? 1 : 0), expr: E.lt(a, b) },
  le: { doc: "a <= b, as bool", bool: true, signedZero: false, f64: (a, b) => (a <= b ? 1 : 0), expr: E.le(a, b) },
  gt: { doc: "a > b, as bool", bool: true, signedZero: false, f64: (a, b) => (a > b ? 1 : 0), expr: E.gt(a, b) },
  ge: { doc: "a >= b, as bool", bool: true, signedZero: false, f64: (a, b) => (a >= b ? 1 : 0), expr: E.ge(a, b) },
  logicalAnd: { doc: "a ≠ 0 and b ≠ 0, as bool", bool: true, signedZero: false, f64: (a, b) => (a !== 0 && b !== 0 ? 1 : 0), expr: E.and(a, b) },
  logicalOr: { doc: "a ≠ 0 or b ≠ 0, as bool", bool: true, signedZero: false, f64: (a, b) => (a !== 0 || b !== 0 ? 1 : 0), expr: E.or(a, b) },
};


/** Every unary op, in table order. */
export const UNARY_OP_NAMES = Object.keys(UNARY_TABLE) as UnaryOp[];
/** Every binary op, in table order. */
export const BINARY_OP_NAMES = Object.keys(BINARY_TABLE) as BinaryOp[];

/** The definition of unary `op` (typed as the general shape, so optional fields read uniformly). */
export function unaryDef(op: UnaryOp): UnaryDef {
  return UNARY_TABLE[op];
}
/** The definition of binary `op`. */
export function binaryDef(op: BinaryOp): BinaryDef {
  return BINARY_TABLE[op];
}

/** Unary ops that keep an integer input integral (bool becomes int32). */
export const INTEGRAL_UNARY_OPS: ReadonlySet<UnaryOp> = new Set(UNARY_OP_NAMES.filter((op) => unaryDef(op).ints === "keep" && !unaryDef(op).bool));
/** Binary ops whose result is bool. */
export const BOOL_BINARY_OPS: ReadonlySet<BinaryOp> = new Set(BINARY_OP_NAMES.filter((op) => binaryDef(op).bool));

// The scalar expression IR every elementwise op and every fused kernel is written in. One tree describes what
// happens to one element; renderers turn it into a float64 evaluation (the reference), WebAssembly (cpu) and
// WGSL (webgpu), so an op's arithmetic is written once.

/** Primitive functions of one value. `nonzero` gives 1 for any non-zero value, NaN included. */
export type PrimUnary =
  | "neg" | "abs" | "sqrt" | "floor" | "ceil" | "round" | "exp" | "log" | "log1p" | "expm1" | "sin" | "cos"
  | "tanh" | "isnan" | "nonzero";

/**
 * Primitive functions of two values. `max`/`min` propagate NaN (PyTorch's maximum/minimum); comparisons give
 * 1 or 0 and are false when either side is NaN (`ne` true); `and`/`or` treat any non-zero value as true.
 */
export type PrimBinary =
  | "add" | "sub" | "mul" | "div" | "pow" | "max" | "min" | "eq" | "ne" | "lt" | "le" | "gt" | "ge" | "and" | "or";

/** One node of an expression. */
export type Expr =
  /** Element of input `index` (after broadcasting). */
  | { readonly kind: "input"; readonly index: number }
  /**
   * Scalar `index` of the call's parameter list: the same for every element and free to change between calls
   * without recompiling (a learning rate, a bias correction), unlike a constant.
   */
  | { readonly kind: "param"; readonly index: number }
  /** A constant, compiled into the kernel as an immediate. */
  | { readonly kind: "const"; readonly value: number }
  | { readonly kind: "unary"; readonly op: PrimUnary; readonly x: Expr }
  | { readonly kind: "binary"; readonly op: PrimBinary; readonly a: Expr; readonly b: Expr }
  /** `a` where `cond` is non-zero, else `b` (both sides are evaluated; neither has side effects). */
  | { readonly kind: "select"; readonly cond: Expr; readonly a: Expr; readonly b: Expr };

/** Primitive binary ops whose result is 0 or 1. */
export const PRIM_COMPARISONS: ReadonlySet<PrimBinary> = new Set<PrimBinary>(["eq", "ne", "lt", "le", "gt", "ge", "and", "or"]);

/** Builders, so op definitions read as formulas: `div(1, add(1, exp(neg(x))))`. Numbers become constants. */
export type ExprLike = Expr | number;
const lift = (e: ExprLike): Expr => (typeof e === "number" ? { kind: "const", value: e } : e);

export const input = (index: number): Expr => ({ kind: "input", index });
export const param = (index: number): Expr => ({ kind: "param", index });
export const constant = (value: number): Expr => ({ kind: "const", value });
export const un = (op: PrimUnary): UnaryBuilder => (x: ExprLike): Expr => ({ kind: "unary", op, x: lift(x) });
export const bin = (op: PrimBinary): BinaryBuilder => (a: ExprLike, b: ExprLike): Expr => ({ kind: "binary", op, a: lift(a), b: lift(b) });
export const select = (cond: ExprLike, a: ExprLike, b: ExprLike): Expr => ({ kind: "select", cond: lift(cond), a: lift(a), b: lift(b) });

/** Builds a node of a primitive function of one value. */
export type UnaryBuilder = (x: ExprLike) => Expr;
/** Builds a node of a primitive function of two values. */
export type BinaryBuilder = (a: ExprLike, b: ExprLike) => Expr;

/** Every builder by its primitive's name, plus `select`, `input`, `param` and `constant`. */
export const E: Readonly<
  & Record<PrimUnary, UnaryBuilder>
  & Record<PrimBinary, BinaryBuilder>
  & {
    select: (cond: ExprLike, a: ExprLike, b: ExprLike) => Expr;
    input: (index: number) => Expr;
    param: (index: number) => Expr;
    constant: (value: number) => Expr;
  }
> = {
  neg: un("neg"), abs: un("abs"), sqrt: un("sqrt"), floor: un("floor"), ceil: un("ceil"), round: un("round"),
  exp: un("exp"), log: un("log"), log1p: un("log1p"), expm1: un("expm1"), sin: un("sin"), cos: un("cos"),
  tanh: un("tanh"), isnan: un("isnan"), nonzero: un("nonzero"),
  add: bin("add"), sub: bin("sub"), mul: bin("mul"), div: bin("div"), pow: bin("pow"), max: bin("max"), min: bin("min"),
  eq: bin("eq"), ne: bin("ne"), lt: bin("lt"), le: bin("le"), gt: bin("gt"), ge: bin("ge"), and: bin("and"), or: bin("or"),
  select, input, param, constant,
};

/** A stable text form of an expression: the cache key of its compiled kernels (parameters are not in it). */
export function exprKey(e: Expr): string {
  switch (e.kind) {
    case "input": return `i${e.index}`;
    case "param": return `p${e.index}`;
    case "const": return Object.is(e.value, -0) ? "c-0" : `c${e.value}`;
    case "unary": return `${e.op}(${exprKey(e.x)})`;
    case "binary": return `${e.op}(${exprKey(e.a)},${exprKey(e.b)})`;
    case "select": return `sel(${exprKey(e.cond)},${exprKey(e.a)},${exprKey(e.b)})`;
  }
}

/** Calls `visit` on every node of `e`, children first. */
export function walk(e: Expr, visit: (node: Expr) => void): void {
  if (e.kind === "unary") walk(e.x, visit);
  else if (e.kind === "binary") {
    walk(e.a, visit);
    walk(e.b, visit);
  } else if (e.kind === "select") {
    walk(e.cond, visit);
    walk(e.a, visit);
    walk(e.b, visit);
  }
  visit(e);
}

/** Number of inputs and parameters an expression list reads (one more than the highest index of each). */
export function arity(exprs: readonly Expr[]): { inputs: number; params: number } {
  let inputs = 0, params = 0;
  for (const e of exprs) {
    walk(e, (n) => {
      if (n.kind === "input") inputs = Math.max(inputs, n.index + 1);
      if (n.kind === "param") params = Math.max(params, n.index + 1);
    });
  }
  return { inputs, params };
}

// Renders the expression IR of @backprop/tensor to a WGSL f32 expression, with the library's NaN semantics:
// WGSL lets a compiler assume no NaN reaches a comparison, so every comparison asks `isnan_` (a bit test) too.
// The helpers it calls (`log_`, `pow_`, `isnan_`, …) are in MATH_WGSL and CONVERT_WGSL.
import type { Expr, PrimBinary, PrimUnary } from "@backprop/tensor";
import { DTypeError, PRIM_COMPARISONS } from "@backprop/tensor";

/** Where an expression's leaves come from in the shader. */
export interface WgslLeaves {
  input(index: number): string;
  param(index: number): string;
}

/**
 * `opv_(x, k)`: x with the always-zero parameter word times `k` ORed in. Each use of a value in an operation
 * gets its own `k`, so a compiler that assumes no NaN or ∞ cannot see two operands as the same value and fold
 * x − x to 0 (or a subexpression written twice, after merging them), which is wrong for NaN and ±∞.
 */
export const OPAQUE_USE_WGSL = /* wgsl */ `
fn opv_(x: f32, k: u32) -> f32 { return bitcast<f32>(bitcast<u32>(x) | (pu(63u) * k)); }
`;

/** An exact f32 literal (bit pattern), so constants mean the same on every backend, −0 and NaN included. */
export function f32Literal(v: number): string {
  // NaN and ∞ come from helpers that read a parameter word, so the compiler cannot fold them away; finite
  // constants OR in the same always-zero word, or a compiler that assumes no NaN folds 0 / x to 0 (and 0 · x).
  if (v !== v) return "nan_()";
  if (v === Infinity) return "inf_()";
  if (v === -Infinity) return "(-inf_())";
  const bits = new Uint32Array(new Float32Array([v]).buffer)[0]!;
  return `bitcast<f32>(${bits}u | pu(63u))`;
}

const UNARY: Record<PrimUnary, (x: string) => string> = {
  neg: (x) => `(-${x})`,
  abs: (x) => `abs(${x})`,
  sqrt: (x) => `sqrt_(${x})`,
  floor: (x) => `floor(${x})`,
  ceil: (x) => `ceil(${x})`,
  // WGSL's round already rounds half to even.
  round: (x) => `round(${x})`,
  exp: (x) => `exp(${x})`,
  log: (x) => `log_(${x})`,
  log1p: (x) => `log1p_(${x})`,
  expm1: (x) => `expm1_(${x})`,
  sin: (x) => `sin(${x})`,
  cos: (x) => `cos(${x})`,
  tanh: (x) => `tanh_(${x})`,
  isnan: (x) => `select(0.0, 1.0, isnan_(${x}))`,
  nonzero: (x) => `select(0.0, 1.0, ${x} != 0.0 || isnan_(${x}))`,
};

const ARITHMETIC: Partial<Record<PrimBinary, (a: string, b: string) => string>> = {
  add: (a, b) => `(${a} + ${b})`,
  sub: (a, b) => `(${a} - ${b})`,
  mul: (a, b) => `(${a} * ${b})`,
  div: (a, b) => `(${a} / ${b})`,
  pow: (a, b) => `pow_(${a}, ${b})`,
  max: (a, b) => `select(select(${b}, ${a}, ${a} > ${b}), nan_(), isnan_(${a}) || isnan_(${b}))`,
  min: (a, b) => `select(select(${b}, ${a}, ${a} < ${b}), nan_(), isnan_(${a}) || isnan_(${b}))`,
};

/** A WGSL bool expression for a comparison node (or any node, read as "non-zero"). */
export function renderCondition(e: Expr, leaves: WgslLeaves): string {
  if (e.kind === "binary" && PRIM_COMPARISONS.has(e.op)) {
    const a = renderWgsl(e.a, leaves), b = renderWgsl(e.b, leaves);
    const nan = `(isnan_(${a}) || isnan_(${b}))`;
    switch (e.op) {
      case "ne": return `(${a} != ${b} || ${nan})`;
      case "and": return `((${a} != 0.0 || isnan_(${a})) && (${b} != 0.0 || isnan_(${b})))`;
      case "or": return `((${a} != 0.0 || isnan_(${a})) || (${b} != 0.0 || isnan_(${b})))`;
      default: {
        const sym = { eq: "==", lt: "<", le: "<=", gt: ">", ge: ">=" }[e.op as "eq" | "lt" | "le" | "gt" | "ge"];
        return `(${a} ${sym} ${b} && !${nan})`;
      }
    }
  }
  const v = renderWgsl(e, leaves);
  return `(${v} != 0.0 || isnan_(${v}))`;
}

/** A WGSL f32 expression computing `e`. */
export function renderWgsl(e: Expr, leaves: WgslLeaves): string {
  switch (e.kind) {
    case "input": return leaves.input(e.index);
    case "param": return leaves.param(e.index);
    case "const": return f32Literal(e.value);
    case "unary": return UNARY[e.op](renderWgsl(e.x, leaves));
    case "binary": {
      if (PRIM_COMPARISONS.has(e.op)) return `select(0.0, 1.0, ${renderCondition(e, leaves)})`;
      return ARITHMETIC[e.op]!(renderWgsl(e.a, leaves), renderWgsl(e.b, leaves));
    }
    case "select":
      return `select(${renderWgsl(e.b, leaves)}, ${renderWgsl(e.a, leaves)}, ${renderCondition(e.cond, leaves)})`;
  }
}

// The same expressions on int32 values (the int32 and bool kernels of ops that keep integers): rounding is the
// identity, there is no NaN, and functions without an integer meaning are an error (the tensor ops compute them
// in float32, so they never reach an integer kernel).

/** An i32 literal; the op table's integer-keeping ops use only integral constants. */
function i32Literal(v: number): string {
  if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) {
    throw new DTypeError(`webgpu: the constant ${v} of an int32 expression is not an int32`);
  }
  return v < 0 ? `(${v}i)` : `${v === 0 ? 0 : v}i`;
}

const UNARY_I32: Partial<Record<PrimUnary, (x: string) => string>> = {
  neg: (x) => `(-${x})`,
  abs: (x) => `abs(${x})`,
  floor: (x) => x,
  ceil: (x) => x,
  round: (x) => x,
  isnan: () => "0i",
  nonzero: (x) => `select(0i, 1i, ${x} != 0i)`,
};

const ARITHMETIC_I32: Partial<Record<PrimBinary, (a: string, b: string) => string>> = {
  add: (a, b) => `(${a} + ${b})`,
  sub: (a, b) => `(${a} - ${b})`,
  mul: (a, b) => `(${a} * ${b})`,
  // Integer division truncates; x / 0 gives 0, as on the CPU.
  div: (a, b) => `select(${a} / ${b}, 0i, ${b} == 0i)`,
  pow: (a, b) => `powi_(${a}, ${b})`,
  max: (a, b) => `max(${a}, ${b})`,
  min: (a, b) => `min(${a}, ${b})`,
};

/** A WGSL bool expression for a comparison node (or any node, read as "non-zero") on int32 values. */
export function renderConditionI32(e: Expr, leaves: WgslLeaves): string {
  if (e.kind === "binary" && PRIM_COMPARISONS.has(e.op)) {
    const a = renderWgslI32(e.a, leaves), b = renderWgslI32(e.b, leaves);
    switch (e.op) {
      case "and": return `(${a} != 0i && ${b} != 0i)`;
      case "or": return `(${a} != 0i || ${b} != 0i)`;
      default: {
        const sym = { eq: "==", ne: "!=", lt: "<", le: "<=", gt: ">", ge: ">=" }[e.op as "eq" | "ne" | "lt" | "le" | "gt" | "ge"];
        return `(${a} ${sym} ${b})`;
      }
    }
  }
  return `(${renderWgslI32(e, leaves)} != 0i)`;
}

/** A WGSL i32 expression computing `e`; a primitive without an integer meaning (exp, sqrt, …) is a DTypeError. */
export function renderWgslI32(e: Expr, leaves: WgslLeaves): string {
  switch (e.kind) {
    case "input": return leaves.input(e.index);
    case "param": return leaves.param(e.index);
    case "const": return i32Literal(e.value);
    case "unary": {
      const render = UNARY_I32[e.op];
      if (!render) throw new DTypeError(`webgpu: ${e.op} is not defined on int32 (the tensor ops compute it in float32)`);
      return render(renderWgslI32(e.x, leaves));
    }
    case "binary": {
      if (PRIM_COMPARISONS.has(e.op)) return `select(0i, 1i, ${renderConditionI32(e, leaves)})`;
      return ARITHMETIC_I32[e.op]!(renderWgslI32(e.a, leaves), renderWgslI32(e.b, leaves));
    }
    case "select":
      return `select(${renderWgslI32(e.b, leaves)}, ${renderWgslI32(e.a, leaves)}, ${renderConditionI32(e.cond, leaves)})`;
  }
}

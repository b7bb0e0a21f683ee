// Renders the expression IR of @backprop/tensor to a WGSL f32 expression, with the library's NaN semantics:
// WGSL lets a compiler assume no NaN reaches a comparison, so every comparison asks `isnan_` (a bit test) too.
// The helpers it calls (`log_`, `pow_`, `isnan_`, …) are in MATH_WGSL and CONVERT_WGSL.
import type { Expr, PrimBinary, PrimUnary } from "@backprop/tensor";
import { PRIM_COMPARISONS } from "@backprop/tensor";

/** Where an expression's leaves come from in the shader. */
export interface WgslLeaves {
  input(index: number): string;
  param(index: number): string;
}

/** An exact f32 literal (bit pattern), so constants mean the same on every backend, −0 and NaN included. */
export function f32Literal(v: number): string {
  // NaN and ∞ come from helpers that read a parameter word, so the compiler cannot fold them away.
  if (v !== v) return "nan_()";
  if (v === Infinity) return "inf_()";
  if (v === -Infinity) return "(-inf_())";
  const bits = new Uint32Array(new Float32Array([v]).buffer)[0]!;
  return `bitcast<f32>(${bits}u)`;
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

// The float64 meaning of the expression IR: what every renderer is checked against.
import type { Expr, PrimBinary, PrimUnary } from "./ir.ts";

/** Round half to even; a negative number that rounds to zero gives −0 (as PyTorch: round(−0.4) = −0). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const frac = x - f;
  const r = frac < 0.5 ? f : frac > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
  return r === 0 && (x < 0 || Object.is(x, -0)) ? -0 : r;
}

/**
 * C's pow, which PyTorch follows: pow(x, ±0) = 1 and pow(1, y) = 1 even for NaN, pow(−1, ±∞) = 1. JavaScript's
 * Math.pow gives NaN for the last two (torch.pow(1., nan) = 1, torch.pow(-1., inf) = 1 in torch 1.13).
 */
export function powC(a: number, b: number): number {
  if (a === 1 || (a === -1 && (b === Infinity || b === -Infinity))) return 1;
  return Math.pow(a, b);
}

/** A primitive function of one value, in float64. */
export function primUnary(op: PrimUnary, x: number): number {
  switch (op) {
    case "neg": return -x;
    case "abs": return Math.abs(x);
    case "sqrt": return Math.sqrt(x);
    case "floor": return Math.floor(x);
    case "ceil": return Math.ceil(x);
    case "round": return roundHalfEven(x);
    case "exp": return Math.exp(x);
    case "log": return Math.log(x);
    case "log1p": return Math.log1p(x);
    case "expm1": return Math.expm1(x);
    case "sin": return Math.sin(x);
    case "cos": return Math.cos(x);
    case "tanh": return Math.tanh(x);
    case "isnan": return x !== x ? 1 : 0;
    case "nonzero": return x !== 0 ? 1 : 0;
  }
}

/** A primitive function of two values, in float64 (NaN-propagating max/min, C's pow). */
export function primBinary(op: PrimBinary, a: number, b: number): number {
  switch (op) {
    case "add": return a + b;
    case "sub": return a - b;
    case "mul": return a * b;
    case "div": return a / b;
    case "pow": return powC(a, b);
    case "max": return a !== a || b !== b ? NaN : a > b ? a : b;
    case "min": return a !== a || b !== b ? NaN : a < b ? a : b;
    case "eq": return a === b ? 1 : 0;
    case "ne": return a !== b ? 1 : 0;
    case "lt": return a < b ? 1 : 0;
    case "le": return a <= b ? 1 : 0;
    case "gt": return a > b ? 1 : 0;
    case "ge": return a >= b ? 1 : 0;
    case "and": return a !== 0 && b !== 0 ? 1 : 0;
    case "or": return a !== 0 || b !== 0 ? 1 : 0;
  }
}

/** The value of `e` in float64 for one element's inputs and the call's parameters. */
export function evaluate(e: Expr, inputs: readonly number[], params: readonly number[] = []): number {
  switch (e.kind) {
    case "input": return inputs[e.index]!;
    case "param": return params[e.index]!;
    case "const": return e.value;
    case "unary": return primUnary(e.op, evaluate(e.x, inputs, params));
    case "binary": return primBinary(e.op, evaluate(e.a, inputs, params), evaluate(e.b, inputs, params));
    case "select": {
      const a = evaluate(e.a, inputs, params), b = evaluate(e.b, inputs, params);
      return evaluate(e.cond, inputs, params) !== 0 ? a : b;
    }
  }
}

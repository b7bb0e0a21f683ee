// An expression of the IR as a JavaScript loop over one row of strided operands: the CPU's kernel for every
// dtype and layout the WebAssembly kernels do not take (float64, int32, bool, small or strided arrays). Each
// op's loop is generated once, as source text, so the arithmetic is written into the loop body where V8 inlines
// it; calling a closure per element instead costs 20–30× on cheap ops (the call site sees every op and V8
// cannot inline it). Where the environment forbids generated code (a Content-Security-Policy without
// 'unsafe-eval' makes `new Function` throw), the loop is built from closures instead: slower, same values.
import type { Expr, PrimBinary, PrimUnary } from "./ir.ts";
import { evaluate, powC, roundHalfEven } from "./evaluate.ts";
import type { TypedArray } from "../dtype.ts";
import { InternalError } from "../errors.ts";

/** out[o … o+n) = expr(x[xi + k·xs]); `p` is the op's scalar parameter (ELU's alpha). */
export type UnaryRow = (x: TypedArray, xi: number, xs: number, out: TypedArray, o: number, n: number, p: number) => void;
/** out[o … o+n) = expr(a[ai + k·as], b[bi + k·bs]). */
export type BinaryRow = (
  a: TypedArray, ai: number, as: number, b: TypedArray, bi: number, bs: number, out: TypedArray, o: number, n: number,
) => void;

/** Builds a function from parameter names and a body, as `new Function` does; throws where code generation is off. */
export type FunctionMaker = (params: readonly string[], body: string) => (...args: never[]) => unknown;

const makeWithNewFunction: FunctionMaker = (params, body) => new Function(...params, body) as (...args: never[]) => unknown;

/** Helpers the generated source calls, passed in rather than reached through globals. */
const HELPERS = { powC, roundHalfEven };

/** A float64 number as JavaScript source (−0, NaN and ±∞ included); nothing but a number reaches the source. */
function literal(v: number): string {
  if (typeof v !== "number") throw new InternalError(`row loop: a constant must be a number, found ${typeof v}`);
  if (Object.is(v, -0)) return "(-0)";
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "Infinity";
  if (v === -Infinity) return "(-Infinity)";
  return `(${v})`;
}

const UNARY_SOURCE: Readonly<Record<PrimUnary, (x: string) => string>> = {
  neg: (x) => `-${x}`,
  abs: (x) => `Math.abs(${x})`,
  sqrt: (x) => `Math.sqrt(${x})`,
  floor: (x) => `Math.floor(${x})`,
  ceil: (x) => `Math.ceil(${x})`,
  round: (x) => `h.roundHalfEven(${x})`,
  exp: (x) => `Math.exp(${x})`,
  log: (x) => `Math.log(${x})`,
  log1p: (x) => `Math.log1p(${x})`,
  expm1: (x) => `Math.expm1(${x})`,
  sin: (x) => `Math.sin(${x})`,
  cos: (x) => `Math.cos(${x})`,
  tanh: (x) => `Math.tanh(${x})`,
  isnan: (x) => `(${x} !== ${x} ? 1 : 0)`,
  nonzero: (x) => `(${x} !== 0 ? 1 : 0)`,
};

// Operands are names or literals (every node is one `const`), so repeating one is free and safe.
const BINARY_SOURCE: Readonly<Record<PrimBinary, (a: string, b: string) => string>> = {
  add: (a, b) => `${a} + ${b}`,
  sub: (a, b) => `${a} - ${b}`,
  mul: (a, b) => `${a} * ${b}`,
  div: (a, b) => `${a} / ${b}`,
  pow: (a, b) => `h.powC(${a}, ${b})`,
  max: (a, b) => `(${a} !== ${a} || ${b} !== ${b} ? NaN : ${a} > ${b} ? ${a} : ${b})`,
  min: (a, b) => `(${a} !== ${a} || ${b} !== ${b} ? NaN : ${a} < ${b} ? ${a} : ${b})`,
  eq: (a, b) => `(${a} === ${b} ? 1 : 0)`,
  ne: (a, b) => `(${a} !== ${b} ? 1 : 0)`,
  lt: (a, b) => `(${a} < ${b} ? 1 : 0)`,
  le: (a, b) => `(${a} <= ${b} ? 1 : 0)`,
  gt: (a, b) => `(${a} > ${b} ? 1 : 0)`,
  ge: (a, b) => `(${a} >= ${b} ? 1 : 0)`,
  and: (a, b) => `(${a} !== 0 && ${b} !== 0 ? 1 : 0)`,
  or: (a, b) => `(${a} !== 0 || ${b} !== 0 ? 1 : 0)`,
};

/**
 * The statements computing `e` for one element, one `const` per node (children first), given the names of the
 * inputs and parameters; returns the statements and the name holding the value. The same float64 operations as
 * `evaluate`, in the same order, so the loop's values equal the reference bit for bit.
 */
export function exprSource(e: Expr, inputs: readonly string[], params: readonly string[]): { lines: string[]; value: string } {
  const lines: string[] = [];
  let next = 0;
  const emit = (node: Expr): string => {
    switch (node.kind) {
      case "input": return inputs[node.index]!;
      case "param": return params[node.index]!;
      case "const": return literal(node.value);
      default: {
        let source: string;
        if (node.kind === "unary") source = UNARY_SOURCE[node.op](emit(node.x));
        else if (node.kind === "binary") {
          const a = emit(node.a), b = emit(node.b);
          source = BINARY_SOURCE[node.op](a, b);
        } else {
          const a = emit(node.a), b = emit(node.b), c = emit(node.cond);
          source = `${c} !== 0 ? ${a} : ${b}`;
        }
        const name = `t${next++}`;
        lines.push(`const ${name} = ${source};`);
        return name;
      }
    }
  };
  const value = emit(e);
  return { lines, value };
}

/** The unary row loop of `e` (over input 0 and parameter 0), compiled once; closures where code generation is off. */
export function unaryRowLoop(e: Expr, make: FunctionMaker = makeWithNewFunction): UnaryRow {
  const { lines, value } = exprSource(e, ["v"], ["p"]);
  const body = [
    `"use strict";`,
    `for (const end = o + n; o < end; o++, xi += xs) {`,
    `  const v = x[xi];`,
    ...lines.map((l) => `  ${l}`),
    `  out[o] = ${value};`,
    `}`,
  ].join("\n");
  try {
    const loop = make(["h", "x", "xi", "xs", "out", "o", "n", "p"], body) as (h: typeof HELPERS, ...rest: Parameters<UnaryRow>) => void;
    return (x, xi, xs, out, o, n, p) => loop(HELPERS, x, xi, xs, out, o, n, p);
  } catch {
    return (x, xi, xs, out, o, n, p) => {
      const params = [p];
      for (const end = o + n; o < end; o++, xi += xs) out[o] = evaluate(e, [x[xi]!], params);
    };
  }
}

/** The binary row loop of `e` (over inputs 0 and 1), compiled once; closures where code generation is off. */
export function binaryRowLoop(e: Expr, make: FunctionMaker = makeWithNewFunction): BinaryRow {
  const { lines, value } = exprSource(e, ["u", "v"], []);
  const body = [
    `"use strict";`,
    `for (const end = o + n; o < end; o++, ai += as, bi += bs) {`,
    `  const u = a[ai], v = b[bi];`,
    ...lines.map((l) => `  ${l}`),
    `  out[o] = ${value};`,
    `}`,
  ].join("\n");
  try {
    const loop = make(["h", "a", "ai", "as", "b", "bi", "bs", "out", "o", "n"], body) as (h: typeof HELPERS, ...rest: Parameters<BinaryRow>) => void;
    return (a, ai, as, b, bi, bs, out, o, n) => loop(HELPERS, a, ai, as, b, bi, bs, out, o, n);
  } catch {
    return (a, ai, as, b, bi, bs, out, o, n) => {
      for (const end = o + n; o < end; o++, ai += as, bi += bs) out[o] = evaluate(e, [a[ai]!, b[bi]!]);
    };
  }
}

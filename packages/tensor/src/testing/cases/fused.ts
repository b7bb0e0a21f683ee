/**
 * Conformance of the fused elementwise primitive (`fused`, the Backend's optional `fused` kernel): random
 * expression graphs over broadcast inputs with NaN, ±∞ and ±0 among the values, against the float64 evaluation
 * of the expression rounded to the dtype after every node, as op-by-op kernels round. A backend without the
 * kernel passes through the op-by-op fallback, so the case holds for every backend.
 */
import fc from "fast-check";
import type { DType } from "../../dtype.ts";
import { primBinary, primUnary } from "../../expr/evaluate.ts";
import { E, type Expr, type PrimBinary, type PrimUnary } from "../../expr/ir.ts";
import { fused } from "../../ops/fused.ts";
import { tensor } from "../../ops/creation.ts";
import { expectMatches } from "../compare.ts";
import { type CaseContext, type ConformanceCase, evaluate, propertyCase } from "../context.ts";
import { broadcast, refArray, storeAs } from "../reference.ts";
import { BINARY_OP_NAMES, binaryDef, UNARY_OP_NAMES, unaryDef } from "../../ops/op_table.ts";

/** Primitives whose float32 results every backend rounds alike (within its division and square-root accuracy). */
const UNARY: readonly PrimUnary[] = ["neg", "abs", "sqrt", "floor", "ceil", "round", "isnan", "nonzero"];
const BINARY: readonly PrimBinary[] = ["add", "sub", "mul", "div", "max", "min", "eq", "ne", "lt", "le", "gt", "ge", "and", "or"];

const exprArb: fc.Arbitrary<Expr> = fc.letrec<{ e: Expr }>((tie) => ({
  e: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom(E.input(0), E.input(1), E.input(2), E.param(0)),
    fc.integer({ min: -16, max: 16 }).map((v) => E.constant(v / 4)),
    fc.tuple(fc.constantFrom(...UNARY), tie("e")).map(([op, x]) => E[op](x)),
    fc.tuple(fc.constantFrom(...BINARY), tie("e"), tie("e")).map(([op, a, b]) => E[op](a, b)),
    fc.tuple(tie("e"), tie("e"), tie("e")).map(([c, a, b]) => E.select(c, a, b)),
  ),
})).e;

/** The value of `e`, each node rounded to `dtype`; `mag` collects the largest finite magnitude on the way. */
function rounded(e: Expr, x: readonly number[], p: number, dtype: DType, mag: { max: number }): number {
  const r = (v: number) => {
    const s = storeAs(dtype, v);
    if (Number.isFinite(s)) mag.max = Math.max(mag.max, Math.abs(s));
    return s;
  };
  switch (e.kind) {
    case "input": return x[e.index]!;
    case "param": return r(p);
    case "const": return r(e.value);
    case "unary": return r(primUnary(e.op, rounded(e.x, x, p, dtype, mag)));
    case "binary": return r(primBinary(e.op, rounded(e.a, x, p, dtype, mag), rounded(e.b, x, p, dtype, mag)));
    case "select": {
      const a = rounded(e.a, x, p, dtype, mag), b = rounded(e.b, x, p, dtype, mag);
      return rounded(e.cond, x, p, dtype, mag) !== 0 ? a : b;
    }
  }
}

/** Broadcast shapes; the full one is large enough (120 elements) for the CPU's kernel memory, so its fused
 * WebAssembly kernel runs rather than the op-by-op fallback. */
const SHAPES: readonly number[][] = [[3, 40], [40], [3, 1], [1], []];
const VALUE = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -400, max: 400 }).map((v) => v / 100) },
  { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity, 0, -0) },
);

/** Element of a row-major array of `shape` seen broadcast (right-aligned) at flat index `i` of `out`. */
function at(data: readonly number[], shape: readonly number[], out: readonly number[], i: number): number {
  let flat = 0, stride = 1, rest = i;
  const idx = new Array<number>(out.length);
  for (let d = out.length - 1; d >= 0; d--) {
    idx[d] = rest % out[d]!;
    rest = Math.floor(rest / out[d]!);
  }
  for (let d = shape.length - 1, o = out.length - 1; d >= 0; d--, o--) {
    if (shape[d] !== 1) flat += idx[o]! * stride;
    stride *= shape[d]!;
  }
  return data[flat]!;
}

export function fusedCases(ctx: CaseContext): ConformanceCase[] {
  const arb = fc.record({
    dtype: fc.constantFrom(...ctx.floatDtypes),
    outputs: fc.array(exprArb, { minLength: 1, maxLength: 3 }),
    shapes: fc.tuple(fc.constantFrom(...SHAPES), fc.constantFrom(...SHAPES), fc.constantFrom(...SHAPES)),
    values: fc.array(VALUE, { minLength: 360, maxLength: 360 }),
    param: fc.integer({ min: -8, max: 8 }).map((v) => v / 4),
  });
  return [
    tableOpsCase(ctx),
    propertyCase(ctx, "fused: random expression graphs over broadcast inputs", arb, async ({ dtype, outputs, shapes, values, param }) => {
      const datas = shapes.map((s, k) => {
        const n = s.reduce((a, b) => a * b, 1);
        return values.slice(120 * k, 120 * k + n).map((v) => storeAs(dtype, v));
      });
      const shape = broadcast(...shapes)!;
      const size = shape.reduce((a, b) => a * b, 1);
      const expected = outputs.map((e) => {
        const data: number[] = [], mags: number[] = [];
        for (let i = 0; i < size; i++) {
          const mag = { max: 0 };
          data.push(rounded(e, datas.map((d, k) => at(d, shapes[k]!, shape, i)), param, dtype, mag));
          mags.push(mag.max);
        }
        return refArray(shape, dtype, data, mags);
      });
      await evaluate(
        () => fused(outputs, datas.map((d, k) => tensor(d, { dtype, device: ctx.device, shape: shapes[k]! })), [param]),
        (arrays, read) =>
          arrays.forEach((a, j) =>
            expectMatches(`fused ${JSON.stringify(outputs[j])} over [${shapes.map((s) => `[${s}]`).join(", ")}] ${dtype}`, a, read[j]!, expected[j]!, ctx.tolerance(dtype, "fused"))
          ),
      );
    }),
  ];
}

/**
 * Every op of the op table, run as a fused program of its expression (one pass, as the op-by-op kernels also run
 * it where a backend compiles expressions): over a [3, 40] input and a broadcast [40] one, values in [−4, 4] with
 * NaN, ±∞, ±0 and subnormals mixed in, against the op's directly written float64 definition.
 */
function tableOpsCase(ctx: CaseContext): ConformanceCase {
  const value = fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: -400, max: 400 }).map((v) => v / 100) },
    { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity, 0, -0, 2 ** -149, -(2 ** -127)) },
  );
  const arb = fc.record({
    dtype: fc.constantFrom(...ctx.floatDtypes),
    a: fc.array(value, { minLength: 120, maxLength: 120 }),
    b: fc.array(value, { minLength: 40, maxLength: 40 }),
    alpha: fc.integer({ min: 1, max: 8 }).map((v) => v / 4),
  });
  const shapeA = [3, 40], shapeB = [40];
  return propertyCase(ctx, "fused: every op of the op table as one pass of its expression", arb, async ({ dtype, a, b, alpha }) => {
    const as = a.map((v) => storeAs(dtype, v)), bs = b.map((v) => storeAs(dtype, v));
    const p = storeAs(dtype, alpha);
    const ops = [
      ...UNARY_OP_NAMES.map((op) => ({
        op,
        expr: unaryDef(op).expr,
        signedZero: unaryDef(op).signedZero,
        want: as.map((x) => storeAs(dtype, unaryDef(op).f64(x, p))),
      })),
      ...BINARY_OP_NAMES.map((op) => ({
        op,
        expr: binaryDef(op).expr,
        signedZero: binaryDef(op).signedZero,
        want: as.map((x, i) => storeAs(dtype, binaryDef(op).f64(x, bs[i % 40]!))),
      })),
    ];
    await evaluate(
      () => {
        const x = tensor(as, { dtype, device: ctx.device, shape: shapeA }), y = tensor(bs, { dtype, device: ctx.device, shape: shapeB });
        return ops.map(({ expr }) => fused([expr], [x, y], [p])[0]!);
      },
      (arrays, read) =>
        arrays.forEach((out, j) => {
          const { op, want, signedZero } = ops[j]!;
          expectMatches(`fused ${op} over [3, 40] and [40] ${dtype}`, out, read[j]!, refArray(shapeA, dtype, want), ctx.tolerance(dtype, op), signedZero);
        }),
    );
  });
}

/**
 * PyTorch's recorded answers on NaN, ±∞ and ±0 (`torch_answers.ts`), checked on the device for every elementwise
 * op, the reductions, softmax and max pooling. The random cases draw the same kinds of values; these fix the
 * combinations a random draw may miss (pow(1, NaN), argmax of a row with two NaN, a row of −∞, …).
 */
import type { DType } from "../../dtype.ts";
import type { NDArray } from "../../ndarray.ts";
import * as conv from "../../ops/conv.ts";
import { tensor } from "../../ops/creation.ts";
import * as ops from "../../ops/elementwise.ts";
import * as red from "../../ops/reduce.ts";
import * as soft from "../../ops/softmax.ts";
import { ConformanceError, expectMatches } from "../compare.ts";
import { type CaseContext, type ConformanceCase, evaluate, simpleCase } from "../context.ts";
import {
  BINARY_OPS,
  COMPARISON_OPS,
  type Ref,
  refArray,
  refReduce,
  SIGNED_ZERO_BINARY,
  SIGNED_ZERO_UNARY,
  storeAs,
  UNARY_OPS,
  unaryResultType,
} from "../reference.ts";
import {
  BINARY_ANSWERS,
  BINARY_INPUT_A,
  BINARY_INPUT_B,
  MAX_POOL_ANSWER,
  MAX_POOL_INPUT,
  ROWS_ANSWERS,
  ROWS_INPUT,
  ROWS_SHAPE,
  type RowOp,
  UNARY_ANSWERS,
  UNARY_INPUT,
} from "../torch_answers.ts";

/** One result to check: what was computed, its expected values, and how strictly. */
interface Check {
  label: string;
  expected: Ref;
  op: string;
  signedZeros: boolean;
}

/** A number as a label shows it: −0 keeps its sign. */
function text(v: number): string {
  return Object.is(v, -0) ? "-0" : String(v);
}

/** Expected values as the result dtype stores them (float32 rounds, bool is 0/1). */
function answer(shape: readonly number[], dtype: DType, values: readonly number[]): Ref {
  return refArray(shape, dtype, values.map((v) => storeAs(dtype, v)));
}

function answersCase(ctx: CaseContext, dtype: "float32" | "float64"): ConformanceCase {
  return simpleCase(ctx, `special values: PyTorch's answers on NaN, ±∞ and ±0 (${dtype})`, async () => {
    const checks: Check[] = [];
    await evaluate(
      () => {
        const results: NDArray[] = [];
        const add = (result: NDArray, check: Check) => {
          results.push(result);
          checks.push(check);
        };
        const on = (values: readonly number[], shape: readonly number[] = [values.length]) =>
          tensor(Float64Array.from(values), { shape: [...shape], dtype, device: ctx.device });
        const x = on(UNARY_INPUT);
        for (const op of UNARY_OPS) {
          const out = op === "elu" ? ops.elu(x, 1) : (ops[op] as (a: NDArray) => NDArray)(x);
          const expected = answer([UNARY_INPUT.length], unaryResultType(op, dtype), UNARY_ANSWERS[op]);
          const label = `${op}(${dtype} [${UNARY_INPUT.map(text).join(", ")}])`;
          add(out, { label, expected, op, signedZeros: SIGNED_ZERO_UNARY.has(op) });
        }
        const a = on(BINARY_INPUT_A), b = on(BINARY_INPUT_B);
        for (const op of BINARY_OPS) {
          const out = (ops[op] as (a: NDArray, b: NDArray) => NDArray)(a, b);
          const expected = answer([BINARY_INPUT_A.length], COMPARISON_OPS.has(op) ? "bool" : dtype, BINARY_ANSWERS[op]);
          add(out, { label: `${op}(${dtype} pairs)`, expected, op, signedZeros: SIGNED_ZERO_BINARY.has(op) });
        }
        const rows = on(ROWS_INPUT, ROWS_SHAPE);
        const perRow = [ROWS_SHAPE[0]];
        const reductions: [RowOp, NDArray, readonly number[], DType][] = [
          ["sum", red.sum(rows, 1), perRow, dtype],
          ["prod", red.prod(rows, 1), perRow, dtype],
          ["max", red.max(rows, 1), perRow, dtype],
          ["min", red.min(rows, 1), perRow, dtype],
          ["argmax", red.argmax(rows, 1), perRow, "int32"],
          ["argmin", red.argmin(rows, 1), perRow, "int32"],
          ["mean", red.mean(rows, 1), perRow, dtype],
          ["logSumExp", soft.logSumExp(rows, 1), perRow, dtype],
          ["softmax", soft.softmax(rows, 1), ROWS_SHAPE, dtype],
          ["logSoftmax", soft.logSoftmax(rows, 1), ROWS_SHAPE, dtype],
        ];
        for (const [op, out, shape, outDtype] of reductions) {
          const expected = answer(shape, outDtype, ROWS_ANSWERS[op]);
          add(out, { label: `${op}(${dtype} rows, dim 1)`, expected, op, signedZeros: false });
        }
        const pooled = conv.maxPool2d(on(MAX_POOL_INPUT, [1, 1, 2, 4]), [2, 4]);
        const one = [1, 1, 1, 1];
        const pool = { op: "maxPool2d", signedZeros: false };
        add(pooled.values, { label: "maxPool2d values", expected: answer(one, dtype, [MAX_POOL_ANSWER.value]), ...pool });
        add(pooled.indices, { label: "maxPool2d indices", expected: answer(one, "int32", [MAX_POOL_ANSWER.index]), ...pool });
        return results;
      },
      (arrays, values) => {
        // Every mismatch at once: one run shows the whole picture of a backend's special-value handling.
        const failures: string[] = [];
        arrays.forEach((out, i) => {
          const c = checks[i]!;
          try {
            expectMatches(c.label, out, values[i]!, c.expected, ctx.tolerance(c.expected.dtype, c.op), c.signedZeros);
          } catch (e) {
            failures.push((e as Error).message);
          }
        });
        if (failures.length) throw new ConformanceError(failures.join("\n"));
      },
    );
  });
}

/**
 * Products of subnormals and ∞, where the order of the multiplications decides: (2⁻¹⁴⁹ · 2⁻¹²⁷) · ∞ is 0 · ∞ = NaN in
 * float32, 2⁻¹⁴⁹ · (2⁻¹²⁷ · ∞) is ∞, and torch.prod gives either by position. Either answer passes, with the sign
 * the factors give the ∞; a row whose factors cannot underflow must give the ∞ and not NaN.
 */
function orderedProductCase(ctx: CaseContext, dtype: "float32" | "float64"): ConformanceCase {
  const [least, subnormal] = dtype === "float32" ? [2 ** -149, 2 ** -127] : [2 ** -1074, 2 ** -1023];
  const rows = [
    [least, subnormal, Infinity],
    [-least, Infinity, subnormal],
    [-Infinity, subnormal, -least],
    [0.5, -Infinity, 3],
  ];
  return simpleCase(ctx, `special values: products of subnormals and ∞ are ±∞ or NaN (${dtype})`, async () => {
    const shape = [rows.length, 3];
    const expected = refReduce("prod", refArray(shape, dtype, rows.flat()), 1, false);
    await evaluate(
      () => [red.prod(tensor(Float64Array.from(rows.flat()), { shape, dtype, device: ctx.device }), 1)],
      ([out], [values]) => expectMatches(`prod(${dtype} ${JSON.stringify(rows)}, dim 1)`, out!, values!, expected, ctx.tolerance(dtype, "prod")),
    );
  });
}

export function specialValueCases(ctx: CaseContext): ConformanceCase[] {
  return ctx.floatDtypes.flatMap((dtype) => [answersCase(ctx, dtype), orderedProductCase(ctx, dtype)]);
}

/**
 * The float64 reference against PyTorch's recorded answers on NaN, ±∞ and ±0: the conformance suite holds every
 * backend to the reference, so the reference itself has to give PyTorch's answers (it once had relu(NaN) = 0).
 */
import { describe, expect, test } from "vitest";
import type { NDArray } from "../src/ndarray.ts";
import { expectMatches, reference as ref } from "../src/testing/mod.ts";
import {
  BINARY_ANSWERS,
  BINARY_INPUT_A,
  BINARY_INPUT_B,
  MAX_POOL_ANSWER,
  MAX_POOL_INPUT,
  ROWS_ANSWERS,
  ROWS_INPUT,
  ROWS_SHAPE,
  UNARY_ANSWERS,
  UNARY_INPUT,
} from "../src/testing/torch_answers.ts";

/** Equal as `Object.is` sees it (NaN = NaN), except that zeros match whatever their sign unless `signed`. */
function expectSame(got: readonly number[], want: readonly number[], signed: boolean): void {
  const shown = (vs: readonly number[]) => vs.map((v) => (Object.is(v, -0) ? "-0" : String(v)));
  const same = got.length === want.length &&
    got.every((g, i) => (signed || g !== 0 ? Object.is(g, want[i]) || Math.abs(g - want[i]!) <= 1e-12 * Math.abs(want[i]!) : want[i] === 0));
  expect(same ? shown(want) : shown(got)).toEqual(shown(want));
}

const x = ref.refArray([UNARY_INPUT.length], "float64", UNARY_INPUT);
const a = ref.refArray([BINARY_INPUT_A.length], "float64", BINARY_INPUT_A);
const b = ref.refArray([BINARY_INPUT_B.length], "float64", BINARY_INPUT_B);
const rows = ref.refArray(ROWS_SHAPE, "float64", ROWS_INPUT);

describe("reference on NaN, ±∞ and ±0 gives PyTorch's answers", () => {
  for (const op of ref.UNARY_OPS) {
    test(`unary ${op}`, () => expectSame(ref.refUnary(op, x).data, UNARY_ANSWERS[op], ref.SIGNED_ZERO_UNARY.has(op)));
  }
  for (const op of ref.BINARY_OPS) {
    test(`binary ${op}`, () => expectSame(ref.refBinary(op, a, b).data, BINARY_ANSWERS[op], ref.SIGNED_ZERO_BINARY.has(op)));
  }
  test("reductions along a row", () => {
    for (const op of ["sum", "prod", "max", "min"] as const) expectSame(ref.refReduce(op, rows, 1, false).data, ROWS_ANSWERS[op], false);
    expectSame(ref.refArgReduce("argmax", rows, 1, false).data, ROWS_ANSWERS.argmax, false);
    expectSame(ref.refArgReduce("argmin", rows, 1, false).data, ROWS_ANSWERS.argmin, false);
    expectSame(ref.refMean(rows, 1, false).data, ROWS_ANSWERS.mean, false);
    expectSame(ref.refLogSumExp(rows, 1, false).data, ROWS_ANSWERS.logSumExp, false);
    expectSame(ref.refSoftmax(rows, 1, false).data, ROWS_ANSWERS.softmax, false);
    expectSame(ref.refSoftmax(rows, 1, true).data, ROWS_ANSWERS.logSoftmax, false);
  });
  test("maxPool2d takes the window's last NaN", () => {
    const win = { kernel: [2, 4], stride: [2, 4], padding: [0, 0], dilation: [1, 1] } as ref.RefWindow;
    const pooled = ref.refMaxPool2d(ref.refArray([1, 1, 2, 4], "float64", MAX_POOL_INPUT), win);
    expectSame(pooled.values.data, [MAX_POOL_ANSWER.value], false);
    expectSame(pooled.indices.data, [MAX_POOL_ANSWER.index], false);
  });
  test("a 0-d softmax of NaN or ±∞ is NaN (torch.softmax(torch.tensor(inf), 0) = nan)", () => {
    for (const v of [NaN, Infinity, -Infinity]) expectSame(ref.refSoftmax(ref.refArray([], "float64", [v]), 0, false).data, [NaN], false);
    expectSame(ref.refSoftmax(ref.refArray([], "float64", [3]), 0, true).data, [0], false);
  });
});

describe("a product whose factors can underflow before they meet ∞ is ±∞ or NaN", () => {
  // torch.prod of float32 [2⁻¹⁴⁹, 2⁻¹²⁷, ∞] is nan and of [2⁻¹⁴⁹, ∞, 2⁻¹²⁷] is inf: the order decides.
  const prodOf = (dtype: "float32" | "float64", values: number[]) => ref.refReduce("prod", ref.refArray([values.length], dtype, values), 0, false);
  test("subnormal factors and ∞: the signed ∞, NaN allowed", () => {
    for (const [dtype, least, sub] of [["float32", 2 ** -149, 2 ** -127], ["float64", 2 ** -1074, 2 ** -1023]] as const) {
      const r = prodOf(dtype, [-least, sub, Infinity]);
      expect(r.data).toEqual([-Infinity]);
      expect(r.orNaN).toEqual([true]);
    }
  });
  test("normal factors whose product stays normal, or a NaN or a 0 among them: one answer", () => {
    for (const values of [[0.5, -Infinity, 3], [2 ** -60, 2 ** -60, Infinity], [2 ** -149, 0, Infinity], [NaN, 2 ** -149, Infinity]]) {
      expect(prodOf("float32", values).orNaN).toBeUndefined();
    }
    expect(prodOf("float32", [2 ** -60, 2 ** -60, 2 ** -10, Infinity]).orNaN).toEqual([true]);
    expect(prodOf("float64", [2 ** -60, 2 ** -60, 2 ** -10, Infinity]).orNaN).toBeUndefined();
  });
  test("factors that overflow before they meet 0: the signed 0, NaN allowed", () => {
    const r = prodOf("float32", [2 ** 100, -0, 2 ** 100]);
    expect(Object.is(r.data[0], -0)).toBe(true);
    expect(r.orNaN).toEqual([true]);
    expect(prodOf("float64", [2 ** 100, -0, 2 ** 100]).orNaN).toBeUndefined();
  });
  test("the comparison takes NaN only where the reference allows it", () => {
    // Only the shape and dtype of the result array are read; the values come separately.
    const got = { shape: [], dtype: "float32" } as unknown as NDArray, nan = new Float32Array([NaN]), exact = { rtol: 0, atol: 0 };
    expect(() => expectMatches("prod", got, nan, prodOf("float32", [2 ** -149, 2 ** -127, Infinity]), exact)).not.toThrow();
    expect(() => expectMatches("prod", got, new Float32Array([-Infinity]), prodOf("float32", [2 ** -149, 2 ** -127, Infinity]), exact))
      .toThrow(/got -Infinity, expected Infinity or NaN/);
    expect(() => expectMatches("prod", got, nan, prodOf("float32", [0.5, Infinity, 3]), exact)).toThrow(/got NaN, expected Infinity \(/);
  });
});

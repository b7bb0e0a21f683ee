// matmulBias against the composed ops it replaces, relu(add(matmul(a, b), bias)). The CPU backend adds the bias
// (and applies ReLU) in the GEMM epilogue in the composed order, so float32 and float64 agree bit for bit: on
// random shapes with batches, skinny and transposed operands, strided biases, and the cases that fall back to
// the composed ops (1-D operands, broadcast biases, a wider bias dtype).
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  add,
  cpuBackend,
  type DType,
  DTypeError,
  Generator,
  matmul,
  matmulBias,
  type NDArray,
  randn,
  relu,
  ShapeError,
  tensor,
  tidy,
} from "../src/mod.ts";

function composed(a: NDArray, b: NDArray, bias: NDArray, withRelu: boolean): NDArray {
  const y = add(matmul(a, b), bias);
  return withRelu ? relu(y) : y;
}

function expectSameBits(got: NDArray, want: NDArray, what: string): void {
  expect(got.shape, what).toEqual(want.shape);
  expect(got.dtype, what).toBe(want.dtype);
  const g = got.dataSync(), w = want.dataSync();
  for (let i = 0; i < w.length; i++) {
    if (!Object.is(g[i], w[i])) throw new Error(`${what}: element ${i} is ${g[i]}, want ${w[i]}`);
  }
}

/** An operand of logical shape [...batch, rows, cols], stored transposed when `transposed`. */
function operand(g: Generator, dtype: DType, batch: number[], rows: number, cols: number, transposed: boolean): NDArray {
  if (!transposed) return randn([...batch, rows, cols], { generator: g, dtype });
  return randn([...batch, cols, rows], { generator: g, dtype }).transpose(-1, -2);
}

const dim = fc.oneof(fc.constantFrom(0, 1, 5, 8, 9), fc.integer({ min: 1, max: 40 }));
const shapeCase = fc.record({
  dtype: fc.constantFrom<DType>("float32", "float64"),
  batch: fc.oneof(fc.constant([] as number[]), fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 2 })),
  m: dim,
  // Skinny products like the MLP's: a long K, a few columns.
  k: fc.oneof(dim, fc.integer({ min: 250, max: 600 })),
  n: fc.oneof(dim, fc.constantFrom(10, 100)),
  transA: fc.boolean(),
  transB: fc.boolean(),
  biasLayout: fc.constantFrom("contiguous", "offset", "strided"),
  relu: fc.boolean(),
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
});

describe("matmulBias", () => {
  test("the CPU backend has the epilogue (so the cases below test it, not the fallback)", () => {
    expect(cpuBackend.matmulBias).toBeTypeOf("function");
  });

  test("equals relu(matmul + bias) bit for bit on random shapes, transposed operands, offset and strided biases", () => {
    fc.assert(
      fc.property(shapeCase, (c) =>
        tidy(() => {
          const g = new Generator(c.seed);
          const a = operand(g, c.dtype, c.batch, c.m, c.k, c.transA);
          const b = operand(g, c.dtype, [], c.k, c.n, c.transB);
          // A strided bias is every other element of a longer row; an offset one starts 3 elements in.
          const bias = c.biasLayout === "strided"
            ? randn([2 * c.n], { generator: g, dtype: c.dtype }).slice(0, 0, 2 * c.n, 2)
            : c.biasLayout === "offset"
            ? randn([c.n + 3], { generator: g, dtype: c.dtype }).narrow(0, 3, c.n)
            : randn([c.n], { generator: g, dtype: c.dtype });
          expectSameBits(matmulBias(a, b, bias, { relu: c.relu }), composed(a, b, bias, c.relu), JSON.stringify(c));
        })
      ),
      { numRuns: 120 },
    );
  });

  test("the MLP's shapes, with x Wᵀ as a transposed view", () => {
    tidy(() => {
      const g = new Generator(7);
      for (const [batch, inF, outF] of [[200, 3072, 100], [200, 100, 10], [500, 3072, 100], [3, 7, 1]] as const) {
        const x = randn([batch, inF], { generator: g }), w = randn([outF, inF], { generator: g });
        const bias = randn([outF], { generator: g });
        for (const r of [false, true]) expectSameBits(matmulBias(x, w.T, bias, { relu: r }), composed(x, w.T, bias, r), `${batch}×${inF}→${outF}`);
      }
    });
  });

  test("NaN, ±∞ and −0 in the bias: NaN stays NaN through ReLU, −0 becomes +0", () => {
    tidy(() => {
      const a = tensor([[1, -1], [0, 2]]);
      const b = tensor([[0, 1, 0, 0], [0, 0, 0, 0]]);
      const bias = tensor([NaN, -Infinity, -0, Infinity]);
      for (const r of [false, true]) expectSameBits(matmulBias(a, b, bias, { relu: r }), composed(a, b, bias, r), `relu ${r}`);
      const y = matmulBias(a, b, bias, { relu: true }).dataSync();
      expect(Number.isNaN(y[0])).toBe(true);
      expect(Object.is(y[2], 0)).toBe(true);
    });
  });

  test("operands outside the epilogue's form fall back to the composed ops", () => {
    tidy(() => {
      const g = new Generator(3);
      const a = randn([4, 6], { generator: g }), b = randn([6, 5], { generator: g });
      const cases: [NDArray, NDArray, NDArray][] = [
        [randn([6], { generator: g }), b, randn([5], { generator: g })], // 1-D left operand
        [a, randn([6], { generator: g }), randn([4], { generator: g })], // 1-D right operand
        [a, b, randn([4, 1], { generator: g })], // a bias that broadcasts down the columns
        [a, b, randn([], { generator: g })], // a scalar bias
        [a, b, randn([5], { generator: g, dtype: "float64" })], // a wider bias: the sum is float64
        [a.cast("float64"), b.cast("float64"), randn([5], { generator: g })], // a narrower bias is cast up
        [tensor([[1, 2]], { dtype: "int32" }), tensor([[3], [4]], { dtype: "int32" }), tensor([5], { dtype: "int32" })],
      ];
      for (const [x, y, bias] of cases) {
        for (const r of [false, true]) {
          expectSameBits(matmulBias(x, y, bias, { relu: r }), composed(x, y, bias, r), `${x.shape}·${y.shape} + ${bias.shape}`);
        }
      }
    });
  });

  test("bad operands give the composed ops' errors", () => {
    tidy(() => {
      const a = randn([4, 6]), b = randn([5, 3]);
      expect(() => matmulBias(a, b, randn([3]))).toThrow(ShapeError);
      expect(() => matmulBias(a, randn([6, 3]), randn([4]))).toThrow(ShapeError);
      expect(() => matmulBias(tensor([[true]]), tensor([[true]]), tensor([1]))).toThrow(DTypeError);
    });
  });
});

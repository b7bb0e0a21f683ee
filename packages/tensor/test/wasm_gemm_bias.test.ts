// The GEMM bias (+ReLU) epilogue against the same product without it followed by the float32 add and relu:
// the epilogue runs in that order on each stored tile, so the two agree bit for bit — on random shapes that
// cover every edge tile and K block, both transposes, padded and offset operands, beta 0 and 1, k = 0, a
// bias in and out of the kernels' memory, one and two threads (split by rows, by columns and along K), plain and
// relaxed SIMD.
import fc from "fast-check";
import { afterAll, describe, expect, test } from "vitest";
import { ShapeError } from "../src/errors.ts";
import { allowRelaxedSimdOnNode } from "./node_relaxed_simd.ts";
import { gemmOperands, type GemmLayout } from "./gemm_operands.ts";

allowRelaxedSimdOnNode();

const { gemm, kSplitPoint, setNumThreads, setRelaxedSimd, stopWasmWorkers, wasmSimdInfo, PARALLEL_MIN_MACS } = await import(
  "../src/cpu/wasm/mod.ts"
);
const { wasmAlloc } = await import("./wasm_buffers.ts");

afterAll(() => stopWasmWorkers());

interface Case extends GemmLayout {
  offBias: number;
  beta: 0 | 1;
  relu: boolean;
  /** A bias value to plant (NaN, ±0, ±∞) or none. */
  special: number | null;
  biasInMemory: boolean;
}

function sameBits(got: Float32Array, want: Float32Array, c: Case): void {
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) throw new Error(`C[${i}] = ${got[i]}, want ${want[i]} for ${JSON.stringify(c)}`);
  }
}

function runCase(c: Case): void {
  const { a, b, c: c0, lda, ldb, ldc, fill } = gemmOperands(c);
  const biasHost = fill(c.offBias + c.n);
  if (c.special !== null && c.n > 0) biasHost[c.offBias + (c.seed % c.n)] = c.special;
  // Reference: the product alone, then the add and relu in float32, element by element.
  const want = c0.slice();
  gemm(c.transA, c.transB, c.m, c.n, c.k, a, 0, lda, b, 0, ldb, want, c.offC, ldc, c.beta);
  for (let i = 0; i < c.m; i++) {
    for (let j = 0; j < c.n; j++) {
      const at = c.offC + i * ldc + j;
      const v = Math.fround(want[at]! + biasHost[c.offBias + j]!);
      want[at] = c.relu && !(v > 0 || v !== v) ? 0 : v;
    }
  }
  const got = c0.slice();
  const inMemory = c.biasInMemory ? wasmAlloc(biasHost.length) : undefined;
  try {
    const bias = inMemory ? (inMemory.view.set(biasHost), inMemory.view) : biasHost;
    gemm(c.transA, c.transB, c.m, c.n, c.k, a, 0, lda, b, 0, ldb, got, c.offC, ldc, c.beta, {
      bias,
      offset: c.offBias,
      relu: c.relu,
    });
  } finally {
    inMemory?.free();
  }
  sameBits(got, want, c);
}

const common = {
  transA: fc.boolean(),
  transB: fc.boolean(),
  padA: fc.constantFrom(0, 0, 3),
  padC: fc.constantFrom(0, 0, 5),
  offC: fc.constantFrom(0, 2),
  offBias: fc.constantFrom(0, 1, 4),
  beta: fc.constantFrom(0 as const, 1 as const),
  relu: fc.boolean(),
  special: fc.oneof(fc.constant(null), fc.constantFrom(NaN, -0, 0, Infinity, -Infinity)),
  biasInMemory: fc.boolean(),
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
};
const dim = fc.oneof(fc.constantFrom(0, 1, 5, 7, 8, 9), fc.integer({ min: 0, max: 60 }));
const smallCase = fc.record<Case>({ ...common, m: dim, n: dim, k: fc.oneof(dim, fc.integer({ min: 250, max: 530 })) });
// Split across two threads; half the cases wide so the split goes by columns (the bias then starts mid-row).
const parallelCase = fc.record<Case>({
  ...common,
  m: fc.integer({ min: 100, max: 230 }),
  n: fc.integer({ min: 30, max: 230 }),
  k: fc.integer({ min: 300, max: 700 }),
}).map((c) => (c.seed % 2 ? c : { ...c, m: c.n, n: c.m }));
// Deep enough to be cut along K (the MLP's x·W1ᵀ kind): the epilogue then runs with the partials' sum.
const deepCase = fc.record<Case>({
  ...common,
  m: fc.integer({ min: 120, max: 260 }),
  n: fc.integer({ min: 30, max: 120 }),
  k: fc.integer({ min: 1040, max: 1300 }),
});

const variants = [
  { name: "plain SIMD", relaxed: false },
  { name: "relaxed SIMD", relaxed: true },
];

describe.each(variants)("gemm bias epilogue, $name", ({ relaxed }) => {
  const available = !relaxed || wasmSimdInfo().relaxedAvailable;
  test.skipIf(!available)("equals the product, then add and relu, on random small shapes", () => {
    setRelaxedSimd(relaxed);
    setNumThreads(1);
    fc.assert(fc.property(smallCase, runCase), { numRuns: 200 });
  });

  test.skipIf(!available)("equals it when split across two threads", () => {
    setRelaxedSimd(relaxed);
    setNumThreads(2);
    fc.assert(
      fc.property(parallelCase, (c) => {
        expect(c.m * c.n * c.k).toBeGreaterThanOrEqual(PARALLEL_MIN_MACS);
        runCase(c);
      }),
      { numRuns: 8 },
    );
  }, 60_000);

  test.skipIf(!available)("equals it when cut along K, on one thread and on two", () => {
    setRelaxedSimd(relaxed);
    for (const threads of [1, 2]) {
      setNumThreads(threads);
      fc.assert(
        fc.property(deepCase, (c) => {
          expect(kSplitPoint(c.m, c.n, c.k)).toBeGreaterThan(0);
          runCase(c);
        }),
        { numRuns: 4 },
      );
    }
  }, 60_000);
});

test("a bias shorter than the product's columns is a ShapeError naming it", () => {
  const c = new Float32Array(6);
  const call = () =>
    gemm(false, false, 2, 3, 1, new Float32Array(2), 0, 1, new Float32Array(3), 0, 3, c, 0, 3, 0, {
      bias: new Float32Array(3),
      offset: 1,
      relu: false,
    });
  expect(call).toThrow(ShapeError);
  expect(call).toThrow(/gemm: bias/);
});

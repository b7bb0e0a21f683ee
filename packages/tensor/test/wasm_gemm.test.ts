// GEMM against a float64 triple loop on random shapes: odd sizes that exercise every edge path, both
// transposes, offsets and padded leading dimensions, beta 0 and 1, zero-sized dimensions, operands in and
// out of the kernels' memory, one and two threads, relaxed and plain SIMD.
import fc from "fast-check";
import { afterAll, describe, expect, test } from "vitest";
import { ValueError } from "../src/errors.ts";
import { allowRelaxedSimdOnNode } from "./node_relaxed_simd.ts";
import { gemmOperands, type GemmLayout, type GemmOperands } from "./gemm_operands.ts";

allowRelaxedSimdOnNode();

const wasm = await import("../src/cpu/wasm/mod.ts");
const {
  gemm,
  setNumThreads,
  setRelaxedSimd,
  stopWasmWorkers,
  wasmSimdInfo,
  PARALLEL_MIN_MACS,
  setGemmSplitPolicy,
  setGemmParallelPacking,
} = wasm;
const { wasmAlloc } = await import("./wasm_buffers.ts");
const { guidedSplit, minChunkFor } = await import("../src/cpu/wasm/gemm.ts");
const { gemmSplitCases } = await import("./gemm_split_cases.ts");

afterAll(() => stopWasmWorkers());

interface Case extends Required<GemmLayout> {
  beta: 0 | 1;
}

/** Checks C against the float64 product within the rounding bound (k + 2)·u·Σ|a||b| of any summation order. */
function check(
  c: Case,
  o: GemmOperands,
  before: Float32Array,
  after: Float32Array,
): void {
  const { a, b, lda, ldb, ldc } = o;
  for (let i = 0; i < c.m; i++) {
    for (let j = 0; j < c.n; j++) {
      let sum = 0, mag = 0;
      for (let q = 0; q < c.k; q++) {
        const x = a[c.offA + (c.transA ? q * lda + i : i * lda + q)]!;
        const y = b[c.offB + (c.transB ? j * ldb + q : q * ldb + j)]!;
        sum += x * y;
        mag += Math.abs(x * y);
      }
      const at = c.offC + i * ldc + j;
      const prior = c.beta === 1 ? before[at]! : 0;
      const want = sum + prior;
      const tol = (c.k + 2) * 2 ** -23 * (mag + Math.abs(prior)) + 1e-30;
      const got = after[at]!;
      if (!(Math.abs(got - want) <= tol)) {
        throw new Error(
          `C[${i},${j}] = ${got}, want ${want} (tol ${tol}) for ${
            JSON.stringify(c)
          }`,
        );
      }
    }
  }
  // Padding between rows and around C is untouched.
  for (let at = 0; at < after.length; at++) {
    const row = Math.floor((at - c.offC) / ldc), col = (at - c.offC) % ldc;
    const inside = at >= c.offC && row < c.m && col < c.n;
    if (!inside && !Object.is(after[at], before[at])) {
      throw new Error(`C outside the product changed at ${at}`);
    }
  }
}

function runCase(c: Case, inMemory: boolean): void {
  const o = gemmOperands(c);
  const before = o.c.slice();
  if (!inMemory) {
    gemm(
      c.transA,
      c.transB,
      c.m,
      c.n,
      c.k,
      o.a,
      c.offA,
      o.lda,
      o.b,
      c.offB,
      o.ldb,
      o.c,
      c.offC,
      o.ldc,
      c.beta,
    );
    check(c, o, before, o.c);
    return;
  }
  const [A, B, C] = [o.a, o.b, o.c].map((x) => {
    const buf = wasmAlloc(x.length);
    buf.view.set(x);
    return buf;
  }) as [
    ReturnType<typeof wasmAlloc>,
    ReturnType<typeof wasmAlloc>,
    ReturnType<typeof wasmAlloc>,
  ];
  try {
    gemm(
      c.transA,
      c.transB,
      c.m,
      c.n,
      c.k,
      A.view,
      c.offA,
      o.lda,
      B.view,
      c.offB,
      o.ldb,
      C.view,
      c.offC,
      o.ldc,
      c.beta,
    );
    check(c, o, before, C.view);
  } finally {
    A.free();
    B.free();
    C.free();
  }
}

const dim = fc.oneof(
  fc.constantFrom(0, 1, 2, 5, 7, 8, 9),
  fc.integer({ min: 0, max: 70 }),
);
const smallCase = fc.record<Case>({
  transA: fc.boolean(),
  transB: fc.boolean(),
  m: dim,
  n: dim,
  k: fc.oneof(dim, fc.integer({ min: 500, max: 530 })), // crosses the K block (kc = 512)
  padA: fc.constantFrom(0, 0, 1, 3),
  padB: fc.constantFrom(0, 0, 2),
  padC: fc.constantFrom(0, 0, 1, 5),
  offA: fc.constantFrom(0, 1, 4),
  offB: fc.constantFrom(0, 3),
  offC: fc.constantFrom(0, 2),
  beta: fc.constantFrom(0 as const, 1 as const),
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
});

// Big enough to be split across threads: m·n·k ≥ PARALLEL_MIN_MACS, rows or columns not multiples of the tile.
const parallelCase = fc.record<Case>({
  transA: fc.boolean(),
  transB: fc.boolean(),
  m: fc.integer({ min: 100, max: 260 }),
  n: fc.integer({ min: 100, max: 260 }),
  k: fc.integer({ min: 90, max: 140 }),
  padA: fc.constantFrom(0, 3),
  padB: fc.constantFrom(0, 1),
  padC: fc.constantFrom(0, 7),
  offA: fc.constantFrom(0, 5),
  offB: fc.constantFrom(0, 2),
  offC: fc.constantFrom(0, 1),
  beta: fc.constantFrom(0 as const, 1 as const),
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
});

/**
 * The MLP job's kind of product, scaled down: skinny C (n down to 10), K across several K blocks, either
 * operand transposed, split across two threads under either chunking policy.
 */
const skinnyCase = fc.record<Case>({
  transA: fc.boolean(),
  transB: fc.boolean(),
  m: fc.integer({ min: 120, max: 230 }),
  n: fc.integer({ min: 10, max: 40 }),
  k: fc.integer({ min: 740, max: 1000 }), // several K blocks; enough work to go parallel
  padA: fc.constantFrom(0, 3),
  padB: fc.constantFrom(0, 1),
  padC: fc.constantFrom(0, 7),
  offA: fc.constantFrom(0, 5),
  offB: fc.constantFrom(0, 2),
  offC: fc.constantFrom(0, 1),
  beta: fc.constantFrom(0 as const, 1 as const),
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
}).map((c) =>
  // Half the cases wide instead of tall, so the split goes by columns as well as by rows.
  c.seed % 2 ? c : { ...c, m: c.n, n: c.m }
);

/**
 * The two-thread products share two cores with the other test files' threads: under a full `pnpm test` one of
 * them has taken 24 s where it takes 0.6 s alone. What these tests check is the result, not the speed.
 */
const PARALLEL_TIMEOUT_MS = 60_000;

/** A product that stages C (beta 1) and splits by rows with B packed once: see its use below. */
const ACCUMULATE_INTO_COPIED_C: Case = {
  transA: false, transB: false, m: 246, n: 105, k: 124, padA: 0, padB: 0, padC: 0, offA: 0, offB: 0, offC: 0, beta: 1,
  seed: 1513017377,
};

const variants = [
  { name: "plain SIMD", relaxed: false },
  { name: "relaxed SIMD", relaxed: true },
];

describe.each(variants)("gemm, $name", ({ relaxed }) => {
  const available = !relaxed || wasmSimdInfo().relaxedAvailable;
  test.skipIf(!available)(
    "matches float64 on random small shapes, copied operands",
    () => {
      setRelaxedSimd(relaxed);
      setNumThreads(1);
      expect(wasmSimdInfo().relaxed).toBe(relaxed);
      fc.assert(fc.property(smallCase, (c) => runCase(c, false)), {
        numRuns: 150,
      });
    },
  );

  test.skipIf(!available)(
    "matches float64 with operands inside the kernels' memory",
    () => {
      setRelaxedSimd(relaxed);
      setNumThreads(1);
      fc.assert(fc.property(smallCase, (c) => runCase(c, true)), {
        numRuns: 60,
      });
    },
  );

  test.skipIf(!available)(
    "matches float64 when split across two threads",
    () => {
      setRelaxedSimd(relaxed);
      setNumThreads(2);
      fc.assert(
        fc.property(parallelCase, fc.boolean(), (c, inMemory) => {
          expect(c.m * c.n * c.k).toBeGreaterThanOrEqual(PARALLEL_MIN_MACS);
          runCase(c, inMemory);
        }),
        // C copied in (beta 1, an ordinary array) and B packed once for both threads: the shared packing once
        // started past the end of the staging memory and overwrote whatever followed it.
        { numRuns: 6, examples: [[ACCUMULATE_INTO_COPIED_C, false]] },
      );
      expect(wasmSimdInfo().workers).toBe(1);
    },
    PARALLEL_TIMEOUT_MS,
  );
});

describe("gemm chunking", () => {
  for (const c of gemmSplitCases()) test(c.name, c.run, PARALLEL_TIMEOUT_MS);

  test("skinny and transposed products match float64 under both split policies", () => {
    setNumThreads(2);
    const before = setGemmSplitPolicy("guided");
    try {
      for (const policy of ["guided", "few"] as const) {
        setGemmSplitPolicy(policy);
        fc.assert(
          fc.property(skinnyCase, fc.boolean(), (c, inMemory) => {
            expect(c.m * c.n * c.k).toBeGreaterThanOrEqual(PARALLEL_MIN_MACS);
            runCase(c, inMemory);
          }),
          { numRuns: 8 },
        );
      }
    } finally {
      setGemmSplitPolicy(before);
    }
  }, PARALLEL_TIMEOUT_MS);

  test("a split covers the side once, on tile boundaries, in a bounded number of chunks", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.constantFrom(5, 8),
        fc.integer({ min: 2, max: 4 }),
        fc.constantFrom("few" as const, "guided" as const),
        (length, unit, threads, policy) => {
          const before = setGemmSplitPolicy(policy);
          try {
            const parts = guidedSplit(
              length,
              unit,
              threads,
              minChunkFor(length, threads, 40),
            );
            let at = 0;
            for (const [from, to] of parts) {
              expect(from).toBe(at);
              expect(to).toBeGreaterThan(from);
              if (to < length) expect(to % unit).toBe(0);
              at = to;
            }
            expect(at).toBe(length);
            expect(parts.length).toBeLessThanOrEqual(64);
            if (policy === "few") {
              expect(parts.length).toBeLessThanOrEqual(2 * threads + 1);
            }
          } finally {
            setGemmSplitPolicy(before);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test("the shared B packed by both threads gives the bits of packing it on one", () => {
    setNumThreads(2);
    const before = setGemmSplitPolicy("few");
    const packing = setGemmParallelPacking(true);
    try {
      fc.assert(
        fc.property(skinnyCase, (c) => {
          // Tall C (split by rows, B shared), K over several blocks.
          const tall = c.m >= c.n ? c : { ...c, m: c.n, n: c.m };
          const o = gemmOperands(tall);
          const run = (parallel: boolean) => {
            setGemmParallelPacking(parallel);
            const out = o.c.slice();
            gemm(tall.transA, tall.transB, tall.m, tall.n, tall.k, o.a, tall.offA, o.lda, o.b, tall.offB, o.ldb, out, tall.offC, o.ldc, tall.beta);
            return out;
          };
          const [one, both] = [run(false), run(true)];
          for (let i = 0; i < one.length; i++) if (!Object.is(one[i], both[i])) throw new Error(`C[${i}] differs for ${JSON.stringify(tall)}`);
        }),
        { numRuns: 6 },
      );
    } finally {
      setGemmSplitPolicy(before);
      setGemmParallelPacking(packing);
    }
  }, PARALLEL_TIMEOUT_MS);

  test("an unknown policy is a ValueError naming the function", () => {
    expect(() => setGemmSplitPolicy("static" as "few")).toThrow(ValueError);
    expect(() => setGemmSplitPolicy("static" as "few")).toThrow(
      /setGemmSplitPolicy/,
    );
  });
});

describe("gemm edge cases", () => {
  test("k = 0 zeroes C with beta 0 and keeps it with beta 1", () => {
    setNumThreads(1);
    const c = new Float32Array([1, 2, 3, 4, 5, 6]);
    gemm(
      false,
      false,
      2,
      3,
      0,
      new Float32Array(0),
      0,
      0,
      new Float32Array(0),
      0,
      3,
      c,
      0,
      3,
      1,
    );
    expect(Array.from(c)).toEqual([1, 2, 3, 4, 5, 6]);
    gemm(
      false,
      false,
      2,
      3,
      0,
      new Float32Array(0),
      0,
      0,
      new Float32Array(0),
      0,
      3,
      c,
      0,
      3,
      0,
    );
    expect(Array.from(c)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  test("beta 0 overwrites NaN in C; NaN in A propagates", () => {
    const c = new Float32Array(4).fill(NaN);
    gemm(
      false,
      false,
      2,
      2,
      1,
      new Float32Array([1, 2]),
      0,
      1,
      new Float32Array([3, 4]),
      0,
      2,
      c,
      0,
      2,
      0,
    );
    expect(Array.from(c)).toEqual([3, 4, 6, 8]);
    gemm(
      false,
      false,
      2,
      2,
      1,
      new Float32Array([NaN, 2]),
      0,
      1,
      new Float32Array([3, 4]),
      0,
      2,
      c,
      0,
      2,
      0,
    );
    expect(Number.isNaN(c[0])).toBe(true);
    expect(c[3]).toBe(8);
  });

  test("in-memory views stay correct after the memory grows", () => {
    const a = wasmAlloc(6);
    a.view.set([1, 2, 3, 4, 5, 6]);
    const oldView = a.view;
    const big = wasmAlloc(8 * 1024 * 1024); // 32 MiB: forces a grow
    const c = new Float32Array(4);
    gemm(false, true, 2, 2, 3, a.view, 0, 3, a.view, 0, 3, c, 0, 2, 0);
    expect(Array.from(c)).toEqual([14, 32, 32, 77]);
    expect(Array.from(oldView.subarray(0, 2))).toEqual([1, 2]);
    big.free();
    a.free();
  });

  test("rejects bad arguments with a message naming the operand", () => {
    const x = new Float32Array(4);
    expect(() =>
      gemm(
        false,
        false,
        2,
        2,
        2,
        x,
        0,
        2,
        x,
        0,
        2,
        new Float32Array(3),
        0,
        2,
        0,
      )
    ).toThrow(/C \(2×2/);
    expect(() => gemm(false, false, 2, 2, 2, x, 0, 1, x, 0, 2, x, 0, 2, 0))
      .toThrow(/lda = 1/);
    expect(() => gemm(false, false, -1, 2, 2, x, 0, 2, x, 0, 2, x, 0, 2, 0))
      .toThrow(ValueError);
    expect(() => gemm(false, false, 2, 2, 2, x, 0, 2, x, 0, 2, x, 0, 2, 2 as 0))
      .toThrow(/beta/);
  });
});

test("guidedSplit covers the range in shrinking, unit-aligned chunks of at least the minimum", async () => {
  const { guidedSplit } = await import("../src/cpu/wasm/gemm.ts");
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 200_000 }),
      fc.constantFrom(5, 8),
      fc.integer({ min: 2, max: 8 }),
      fc.constantFrom(40, 64),
      (length, unit, threads, minChunk) => {
        const parts = guidedSplit(length, unit, threads, minChunk);
        expect(parts.length).toBeLessThanOrEqual(64);
        expect(parts[0]![0]).toBe(0);
        expect(parts[parts.length - 1]![1]).toBe(length);
        parts.forEach(([from, to], i) => {
          expect(to).toBeGreaterThan(from);
          if (i > 0) expect(from).toBe(parts[i - 1]![1]);
          if (i < parts.length - 1) {
            expect(to - from).toBeGreaterThanOrEqual(minChunk);
            expect(to % unit).toBe(0);
          }
        });
      },
    ),
  );
});

test("hundreds of back-to-back parallel jobs of different kernels give the single-thread results", async () => {
  // The convolution lowers its input with the im2col kernel, split over the pool by channel ranges.
  const { conv2d, tensor } = await import("../src/mod.ts");
  const m = 100, n = 104, k = 90;
  const a = wasmAlloc(m * k),
    b = wasmAlloc(k * n),
    c = wasmAlloc(m * n);
  const weight = tensor(Float32Array.from({ length: 4 * 16 * 9 }, (_, i) => ((i % 5) - 2) / 4), { shape: [4, 16, 3, 3] });
  const image = tensor(Float32Array.from({ length: 16 * 24 * 45 }, (_, i) => i % 5), { shape: [1, 16, 24, 45] });
  const results = (threads: number) => {
    setNumThreads(threads);
    const sums: number[] = [];
    for (let round = 0; round < 150; round++) {
      a.view.forEach((_, i, v) => (v[i] = ((i * 31 + round) % 17) - 8));
      b.view.forEach((_, i, v) => (v[i] = ((i * 7 + round) % 13) / 4));
      gemm(
        false,
        round % 2 === 1,
        m,
        n,
        k,
        a.view,
        0,
        k,
        b.view,
        0,
        round % 2 === 1 ? k : n,
        c.view,
        0,
        n,
        0,
      );
      const x = image.add(round % 5);
      const y = conv2d(x, weight, null, { padding: 1, stride: [1, 2] });
      sums.push(
        c.view.reduce((s, v, i) => s + v * ((i % 7) + 1), 0),
        (y.dataSync() as Float32Array).reduce((s, v, i) => s + v * ((i % 3) + 1), 0),
      );
      x.dispose();
      y.dispose();
    }
    return sums;
  };
  const single = results(1);
  const parallel = results(2);
  expect(wasmSimdInfo().workers).toBe(1);
  expect(parallel).toEqual(single);
  [a, b, c].forEach((buf) => buf.free());
  weight.dispose();
  image.dispose();
});

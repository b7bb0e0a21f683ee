// The WebAssembly SGEMM split across two threads, under each way of cutting it into chunks, against the
// plain TypeScript GEMM run in float64 on the same values: the MLP job's kind of shapes scaled down (skinny
// C, K across several K blocks), either operand transposed, padded leading dimensions, offsets, accumulate;
// products cut along K (the MLP's own shapes among them) also give the same bits on one thread as on two.
// Shared by vitest (Node 20: plain SIMD, not unrolled) and the Deno run (relaxed SIMD, unrolled).
import fc from "fast-check";
import { gemmPlain } from "../src/cpu/gemm.ts";
import {
  gemm,
  kSplitPoint,
  PARALLEL_MIN_MACS,
  setGemmSplitPolicy,
  setNumThreads,
} from "../src/cpu/wasm/mod.ts";
import { wasmAlloc } from "./wasm_buffers.ts";
import type { KernelCase } from "./cpu_kernel_cases.ts";

interface SplitCase {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  pad: [number, number, number];
  off: [number, number, number];
  accumulate: boolean;
  inMemory: boolean;
  seed: number;
}

const splitCase: fc.Arbitrary<SplitCase> = fc.record({
  transA: fc.boolean(),
  transB: fc.boolean(),
  m: fc.integer({ min: 120, max: 230 }),
  n: fc.integer({ min: 10, max: 40 }),
  k: fc.integer({ min: 740, max: 1000 }),
  pad: fc.tuple(
    fc.constantFrom(0, 3),
    fc.constantFrom(0, 1),
    fc.constantFrom(0, 7),
  ),
  off: fc.tuple(
    fc.constantFrom(0, 5),
    fc.constantFrom(0, 2),
    fc.constantFrom(0, 1),
  ),
  accumulate: fc.boolean(),
  inMemory: fc.boolean(),
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
}).map((c) => (c.seed % 2 ? c : { ...c, m: c.n, n: c.m })); // wide as well as tall: split by columns too

function values(length: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length }, () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) / 2 ** 32) * 2 - 1;
  });
}

function checkCase(c: SplitCase): void {
  if (c.m * c.n * c.k < PARALLEL_MIN_MACS) {
    throw new Error(`case too small to split: ${JSON.stringify(c)}`);
  }
  const aCols = c.transA ? c.m : c.k, aRows = c.transA ? c.k : c.m;
  const bCols = c.transB ? c.k : c.n, bRows = c.transB ? c.n : c.k;
  const lda = aCols + c.pad[0], ldb = bCols + c.pad[1], ldc = c.n + c.pad[2];
  const a = values(c.off[0] + aRows * lda, c.seed);
  const b = values(c.off[1] + bRows * ldb, c.seed + 1);
  const c0 = values(c.off[2] + c.m * ldc, c.seed + 2);
  const want = Float64Array.from(c0);
  gemmPlain(
    c.transA,
    c.transB,
    c.m,
    c.n,
    c.k,
    Float64Array.from(a),
    c.off[0],
    lda,
    Float64Array.from(b),
    c.off[1],
    ldb,
    want,
    c.off[2],
    ldc,
    c.accumulate,
  );
  const bufs = c.inMemory
    ? [a, b, c0].map((x) => {
      const buf = wasmAlloc(x.length);
      buf.view.set(x);
      return buf;
    })
    : [];
  try {
    const [A, B, C] = c.inMemory ? bufs.map((x) => x.view) : [a, b, c0.slice()];
    gemm(
      c.transA,
      c.transB,
      c.m,
      c.n,
      c.k,
      A!,
      c.off[0],
      lda,
      B!,
      c.off[1],
      ldb,
      C!,
      c.off[2],
      ldc,
      c.accumulate ? 1 : 0,
    );
    for (let at = 0; at < want.length; at++) {
      const row = Math.floor((at - c.off[2]) / ldc),
        col = (at - c.off[2]) % ldc;
      const inside = at >= c.off[2] && row < c.m && col < c.n;
      // Any summation order is within (k + 2)·u·Σ|a||b| (+|C|) of the float64 result; |values| < 1.
      const tol = inside ? (c.k + 2) * 2 ** -23 * (c.k + 1) : 0;
      if (!(Math.abs(C![at]! - (inside ? want[at]! : c0[at]!)) <= tol)) {
        throw new Error(
          `C[${at}] = ${C![at]}, want ${inside ? want[at] : c0[at]} for ${
            JSON.stringify(c)
          }`,
        );
      }
    }
  } finally {
    for (const x of bufs) x.free();
  }
}

// Deep products that gemm cuts along K: k ≥ 1024, m ≥ n and k ≥ 4·m.
const deepCase: fc.Arbitrary<SplitCase> = splitCase.chain((c) =>
  fc.record({
    m: fc.integer({ min: 30, max: 256 }),
    n: fc.integer({ min: 30, max: 256 }),
    k: fc.integer({ min: 1024, max: 1500 }),
  }).map((d) => {
    const [m, n] = d.m >= d.n ? [d.m, d.n] : [d.n, d.m];
    return { ...c, m, n, k: Math.max(d.k, 4 * m) };
  })
);

/** The MLP job's products big enough to split: forward x·W1ᵀ, dW1 = doutᵀ·x, the evaluation's x·W1ᵀ. */
const mlpShapes: SplitCase[] = [
  [false, true, 200, 100, 3072],
  [true, false, 100, 3072, 200],
  [false, true, 500, 100, 3072],
].map(([transA, transB, m, n, k], i) => ({
  transA: transA as boolean,
  transB: transB as boolean,
  m: m as number,
  n: n as number,
  k: k as number,
  pad: [0, 0, 0],
  off: [0, 0, 0],
  accumulate: i % 2 === 1,
  inMemory: true,
  seed: 11 + i,
}));

/** checkCase on two threads, and the bits of C the same on one thread as on two. */
function checkThreadsAgree(c: SplitCase): void {
  setNumThreads(2);
  checkCase(c);
  const lda = (c.transA ? c.m : c.k) + c.pad[0], ldb = (c.transB ? c.k : c.n) + c.pad[1], ldc = c.n + c.pad[2];
  const a = values(c.off[0] + (c.transA ? c.k : c.m) * lda, c.seed);
  const b = values(c.off[1] + (c.transB ? c.n : c.k) * ldb, c.seed + 1);
  const c0 = values(c.off[2] + c.m * ldc, c.seed + 2);
  const product = (threads: number) => {
    setNumThreads(threads);
    const out = c0.slice();
    gemm(c.transA, c.transB, c.m, c.n, c.k, a, c.off[0], lda, b, c.off[1], ldb, out, c.off[2], ldc, c.accumulate ? 1 : 0);
    return out;
  };
  const one = product(1), two = product(2);
  for (let i = 0; i < one.length; i++) {
    if (!Object.is(one[i], two[i])) throw new Error(`C[${i}] differs between one and two threads for ${JSON.stringify(c)}`);
  }
}

export function gemmSplitCases(numRuns = 8): KernelCase[] {
  const wide: KernelCase = {
    // B wider than one column block (NC = 1024) and deeper than one K block: the packed blocks of a B
    // packed once for all threads are found at the right offsets.
    name:
      "gemm split by rows with B packed once, across column and K blocks, matches the float64 reference",
    run: () => {
      setNumThreads(2);
      for (const transB of [false, true]) {
        checkCase({
          transA: false,
          transB,
          m: 1100,
          n: 1030,
          k: 260,
          pad: [1, 3, 2],
          off: [2, 1, 3],
          accumulate: transB,
          inMemory: true,
          seed: 7,
        });
      }
    },
  };
  const deep: KernelCase = {
    name: "gemm cut along K matches the float64 reference and gives the same bits on one thread as on two",
    run: () => {
      try {
        fc.assert(
          fc.property(deepCase, (c) => {
            if (kSplitPoint(c.m, c.n, c.k) === 0) throw new Error(`not cut along K: ${JSON.stringify(c)}`);
            checkThreadsAgree(c);
          }),
          { numRuns },
        );
      } finally {
        setNumThreads(2);
      }
    },
  };
  const mlp: KernelCase = {
    name: "gemm on the MLP job's exact shapes matches the float64 reference, same bits on one thread as on two",
    run: () => {
      try {
        for (const c of mlpShapes) checkThreadsAgree(c);
      } finally {
        setNumThreads(2);
      }
    },
  };
  return [wide, deep, mlp].concat((["few", "guided"] as const).map((policy) => ({
    name:
      `gemm split over two threads ("${policy}" chunks) matches the float64 reference`,
    run: () => {
      setNumThreads(2);
      const before = setGemmSplitPolicy(policy);
      try {
        fc.assert(fc.property(splitCase, checkCase), { numRuns });
      } finally {
        setGemmSplitPolicy(before);
      }
    },
  })));
}

// GEMM on the default MLP job's shapes and 1024³, comparing the ways of cutting a parallel product into
// chunks (policies of setGemmSplitPolicy), of packing the B that row chunks share (setGemmParallelPacking) and
// cutting deep products along K (setGemmKSplit)
// interleaved in one process, against the Wasm-SIMD multiply-add ceiling of as many threads measured in the same
// rounds.
// Prints a Markdown table.
//
//   deno run -A packages/tensor/bench/gemm_shapes.ts [--rounds 15] [--threads 2]
import {
  gemm,
  type GemmSplitPolicy,
  measurePeakGflops,
  setGemmKSplit,
  setGemmParallelPacking,
  setGemmSplitPolicy,
  setNumThreads,
  stopWasmWorkers,
  wasmSimdInfo,
} from "../src/cpu/wasm/mod.ts";
import { wasmAlloc } from "../test/wasm_buffers.ts";

const argv: string[] =
  (globalThis as { Deno?: { args: string[] } }).Deno?.args ??
    (globalThis as { process?: { argv: string[] } }).process?.argv.slice(2) ??
    [];
const at = argv.indexOf("--rounds");
const rounds = at >= 0 ? Number(argv[at + 1]) : 15;
const threadsAt = argv.indexOf("--threads");
const threads = threadsAt >= 0 ? Number(argv[threadsAt + 1]) : 2;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2
    ? s[(s.length - 1) / 2]!
    : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface Shape {
  name: string;
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
}
const shapes: Shape[] = [
  {
    name: "forward x·W1ᵀ 200×3072·(100×3072)ᵀ",
    transA: false,
    transB: true,
    m: 200,
    n: 100,
    k: 3072,
  },
  {
    name: "dW1 = doutᵀ·x (200×100)ᵀ·200×3072",
    transA: true,
    transB: false,
    m: 100,
    n: 3072,
    k: 200,
  },
  {
    name: "wider hidden layer x·Wᵀ 200×3072·(200×3072)ᵀ",
    transA: false,
    transB: true,
    m: 200,
    n: 200,
    k: 3072,
  },
  {
    name: "evaluation 500×3072·(100×3072)ᵀ",
    transA: false,
    transB: true,
    m: 500,
    n: 100,
    k: 3072,
  },
  {
    name: "square 1024³",
    transA: false,
    transB: false,
    m: 1024,
    n: 1024,
    k: 1024,
  },
];
/** The ways compared: a split policy, and for "few" whether the shared B is packed by the caller or all threads. */
interface Config {
  name: string;
  policy: GemmSplitPolicy;
  parallelPacking: boolean;
  /** Whether deep products are cut along K (setGemmKSplit); the rows above are without it. */
  kSplit: boolean;
}
const configs: Config[] = [
  { name: "guided", policy: "guided", parallelPacking: false, kSplit: false },
  { name: "few, B packed by the caller", policy: "few", parallelPacking: false, kSplit: false },
  { name: "few", policy: "few", parallelPacking: true, kSplit: false },
  { name: "few + K split (default)", policy: "few", parallelPacking: true, kSplit: true },
];

const A = wasmAlloc(1024 * 3072),
  B = wasmAlloc(1024 * 3072),
  C = wasmAlloc(1024 * 3072);
A.view.forEach((_, i, v) => (v[i] = Math.random() - 0.5));
B.view.forEach((_, i, v) => (v[i] = Math.random() - 0.5));
setNumThreads(threads);

const runOnce = (s: Shape, config: Config): number => {
  setGemmSplitPolicy(config.policy);
  setGemmParallelPacking(config.parallelPacking);
  setGemmKSplit(config.kSplit);
  const lda = s.transA ? s.m : s.k, ldb = s.transB ? s.k : s.n;
  // Small products are repeated so each timing is a few milliseconds.
  const reps = Math.max(1, Math.round(2e8 / (2 * s.m * s.n * s.k)));
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) {
    gemm(
      s.transA,
      s.transB,
      s.m,
      s.n,
      s.k,
      A.view,
      0,
      lda,
      B.view,
      0,
      ldb,
      C.view,
      0,
      s.n,
      0,
    );
  }
  return (performance.now() - t0) / reps;
};

const times = new Map<string, number[]>();
const peaks: number[] = [];
for (const s of shapes) {
  for (const p of configs) for (let w = 0; w < 3; w++) runOnce(s, p);
}
measurePeakGflops(threads, 6_000_000);
for (let r = 0; r < rounds; r++) {
  peaks.push(measurePeakGflops(threads, 6_000_000));
  for (const s of shapes) {
    for (const p of configs) {
      const key = `${s.name}/${p.name}`;
      if (!times.has(key)) times.set(key, []);
      times.get(key)!.push(runOnce(s, p));
    }
  }
}
const peak = median(peaks);
const info = wasmSimdInfo();
console.log(
  `relaxed SIMD ${info.relaxed}; tile ${info.gemmTiling.mr}×${info.gemmTiling.nr}, kc ${info.gemmTiling.kc}; ` +
    `${threads} thread(s); median of ${rounds} interleaved rounds; ${threads}-thread ceiling ${
      peak.toFixed(1)
    } GFLOP/s ` +
    `(min ${Math.min(...peaks).toFixed(1)}, max ${
      Math.max(...peaks).toFixed(1)
    })\n`,
);
console.log(
  "| shape | split | median ms | GFLOP/s | % of ceiling | speed vs guided | speed vs few |",
);
console.log("|---|---|---:|---:|---:|---:|---:|");
for (const s of shapes) {
  const ms = (name: string) => median(times.get(`${s.name}/${name}`)!);
  for (const p of configs) {
    const g = (2 * s.m * s.n * s.k) / ms(p.name) / 1e6;
    const ratio = p.policy === "guided"
      ? ""
      : `${(ms("guided") / ms(p.name)).toFixed(2)}×`;
    const vsFew = p.name === "few" || p.policy === "guided" ? "" : `${(ms("few") / ms(p.name)).toFixed(2)}×`;
    console.log(
      `| ${s.name} | ${p.name} | ${ms(p.name).toFixed(3)} | ${g.toFixed(1)} | ${
        (100 * g / peak).toFixed(0)
      } | ${ratio} | ${vsFew} |`,
    );
  }
}
A.free();
B.free();
C.free();
stopWasmWorkers();

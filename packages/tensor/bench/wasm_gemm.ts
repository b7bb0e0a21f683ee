// Float32 GEMM of the WebAssembly SIMD kernels against this machine's Wasm-SIMD ceiling and plain
// TypeScript. Prints a Markdown table. Timings are medians over interleaved rounds after warm-up.
//
//   deno run -A packages/tensor/bench/wasm_gemm.ts [--rounds 9] [--sizes 256,512,1024] [--no-plain]
import {
  gemm,
  measurePeakGflops,
  setNumThreads,
  setRelaxedSimd,
  stopWasmWorkers,
  wasmFeatures,
  wasmSimdInfo,
} from "../src/cpu/wasm/mod.ts";
import { conv2d, tensor } from "../src/mod.ts";
import { wasmAlloc } from "../test/wasm_buffers.ts";

const argv: string[] =
  (globalThis as { Deno?: { args: string[] } }).Deno?.args ??
    (globalThis as { process?: { argv: string[] } }).process?.argv.slice(2) ??
    [];
const flag = (name: string, fallback: string) => {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 && argv[at + 1] ? argv[at + 1]! : fallback;
};
const rounds = Number(flag("rounds", "9"));
const sizes = flag("sizes", "256,512,1024").split(",").map(Number);
const withPlain = !argv.includes("--no-plain");

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2
    ? s[(s.length - 1) / 2]!
    : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const gflops = (n: number, ms: number) => (2 * n ** 3) / ms / 1e6;

/** The obvious TypeScript product (i-k-j order, so the inner loop is sequential), as a baseline. */
function gemmTypeScript(
  n: number,
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
): void {
  c.fill(0);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < n; p++) {
      const x = a[i * n + p]!;
      const bRow = p * n, cRow = i * n;
      for (let j = 0; j < n; j++) c[cRow + j]! += x * b[bRow + j]!;
    }
  }
}

const features = wasmFeatures();
const cores = features.hardwareConcurrency;
const deno =
  (globalThis as { Deno?: { version: { deno: string; v8: string } } }).Deno;
const nodeVersions =
  (globalThis as { process?: { versions?: { node?: string; v8?: string } } })
    .process?.versions;
const engine = deno
  ? `Deno ${deno.version.deno} (V8 ${deno.version.v8})`
  : `Node ${nodeVersions?.node} (V8 ${nodeVersions?.v8})`;
const info = wasmSimdInfo();
console.log(
  `# WebAssembly SIMD GEMM — ${engine}, ${cores} cores, ${
    new Date().toISOString().slice(0, 10)
  }`,
);
console.log(
  `relaxed SIMD available: ${info.relaxedAvailable}; tile ${info.gemmTiling.mr}×${info.gemmTiling.nr}, ` +
    `kc ${info.gemmTiling.kc}, mc ${info.gemmTiling.mc}, nc ${info.gemmTiling.nc}, unroll ${info.gemmTiling.unroll}; ` +
    `median of ${rounds} interleaved rounds\n`,
);

const variants = (info.relaxedAvailable ? ["relaxed"] : []).concat(
  withPlain || !info.relaxedAvailable ? ["plain"] : [],
);
const threadCounts = [...new Set([1, Math.min(2, cores)])];

// Peak (the multiply-add loop with no memory traffic) is measured in the same interleaved rounds as GEMM,
// so both see the same machine load; each measurement is about as long as a 1024³ product.
const peakTimes = new Map<string, number[]>();
const measurePeak = (v: string, t: number) => {
  setRelaxedSimd(v === "relaxed");
  setNumThreads(t);
  const key = `${v}/${t}`;
  if (!peakTimes.has(key)) peakTimes.set(key, []);
  peakTimes.get(key)!.push(measurePeakGflops(t, 6_000_000));
};

const nMax = Math.max(...sizes);
const A = wasmAlloc(nMax * nMax),
  B = wasmAlloc(nMax * nMax),
  C = wasmAlloc(nMax * nMax);
A.view.forEach((_, i, v) => (v[i] = Math.random() - 0.5));
B.view.forEach((_, i, v) => (v[i] = Math.random() - 0.5));

interface Config {
  variant: string;
  threads: number;
  n: number;
  times: number[];
}
const configs: Config[] = [];
for (const n of sizes) {
  for (const v of variants) {
    for (const t of threadCounts) {
      configs.push({ variant: v, threads: t, n, times: [] });
    }
  }
}
const runOnce = (cfg: Config) => {
  setRelaxedSimd(cfg.variant === "relaxed");
  setNumThreads(cfg.threads);
  const { n } = cfg;
  const t0 = performance.now();
  gemm(false, false, n, n, n, A.view, 0, n, B.view, 0, n, C.view, 0, n, 0);
  return performance.now() - t0;
};
for (const cfg of configs) for (let w = 0; w < 2; w++) runOnce(cfg); // warm-up: tier-up, pool start
for (const v of variants) for (const t of threadCounts) measurePeak(v, t); // warm-up
peakTimes.clear();
for (let r = 0; r < rounds; r++) {
  for (const v of variants) for (const t of threadCounts) measurePeak(v, t);
  for (const cfg of configs) cfg.times.push(runOnce(cfg));
}
const peak = new Map([...peakTimes].map(([key, runs]) => [key, median(runs)]));

// Plain TypeScript at the smallest size (it is ~25× slower; larger sizes only take longer to say the same).
const nTs = Math.min(...sizes);
const a = A.view.slice(0, nTs * nTs),
  b = B.view.slice(0, nTs * nTs),
  c = new Float32Array(nTs * nTs);
gemmTypeScript(nTs, a, b, c);
const tsTimes = Array.from({ length: 3 }, () => {
  const t0 = performance.now();
  gemmTypeScript(nTs, a, b, c);
  return performance.now() - t0;
});
const tsGflops = gflops(nTs, median(tsTimes));

console.log("| kernel | threads | GFLOP/s | % of peak |");
console.log("|---|---:|---:|---:|");
for (const v of variants) {
  for (const t of threadCounts) {
    console.log(
      `| peak FMA loop, ${v} | ${t} | ${
        peak.get(`${v}/${t}`)!.toFixed(1)
      } | 100 |`,
    );
  }
}
console.log(
  `| plain TypeScript triple loop, ${nTs}³ | 1 | ${tsGflops.toFixed(2)} | |`,
);
console.log();
console.log(
  "| GEMM n×n×n | SIMD | threads | median ms | GFLOP/s (median) | GFLOP/s (best) | % of peak | × TypeScript |",
);
console.log("|---|---|---:|---:|---:|---:|---:|---:|");
for (const cfg of configs) {
  const ms = median(cfg.times);
  const g = gflops(cfg.n, ms);
  const best = gflops(cfg.n, Math.min(...cfg.times));
  const p = peak.get(`${cfg.variant}/${cfg.threads}`)!;
  console.log(
    `| ${cfg.n}³ | ${cfg.variant} | ${cfg.threads} | ${ms.toFixed(2)} | ${
      g.toFixed(1)
    } | ${best.toFixed(1)} | ` +
      `${((100 * g) / p).toFixed(0)} | ${(g / tsGflops).toFixed(0)} |`,
  );
}
A.free();
B.free();
C.free();

// A convolution layer as the CPU backend runs it (batched im2col + GEMM in kernel memory), batch 32,
// 128 → 128 channels, 16×16, 3×3, padding 1 (the shape of the issue's W5 workload).
{
  const N = 32, Cin = 128, Cout = 128, H = 16, W = 16;
  const K = Cin * 9, P = H * W;
  const x = tensor(Float32Array.from({ length: N * Cin * H * W }, () => Math.random() - 0.5), { shape: [N, Cin, H, W] });
  const w = tensor(Float32Array.from({ length: Cout * K }, () => Math.random() - 0.5), { shape: [Cout, Cin, 3, 3] });
  const flops = 2 * N * Cout * P * K;
  setRelaxedSimd(info.relaxedAvailable);
  console.log();
  console.log(
    "| conv2d forward, batch 32, 128→128, 16×16, 3×3 pad 1 (im2col + GEMM) | threads | median ms | GFLOP/s |",
  );
  console.log("|---|---:|---:|---:|");
  for (const t of threadCounts) {
    setNumThreads(t);
    const once = () => {
      const t0 = performance.now();
      conv2d(x, w, null, { padding: 1 }).dispose();
      return performance.now() - t0;
    };
    once();
    const ms = median(
      Array.from({ length: Math.max(3, Math.ceil(rounds / 2)) }, once),
    );
    console.log(
      `| ${info.relaxedAvailable ? "relaxed" : "plain"} SIMD | ${t} | ${
        ms.toFixed(1)
      } | ${(flops / ms / 1e6).toFixed(1)} |`,
    );
  }
  x.dispose();
  w.dispose();
}
stopWasmWorkers();

import { storageDecls } from "../bindings.ts";
import type { KernelSpec } from "../runtime.ts";

/**
 * Tiled GEMM template shared by matmul and the three convolution passes (implicit GEMM: the convolution's
 * operands are read straight from the NCHW tensors, nothing is unfolded into memory).
 *
 * A workgroup of 256 threads computes a BM × BN tile of C = A·B, walking K in steps of BK: each step stages a
 * BM × BK slice of A and a BK × BN slice of B in workgroup memory, then every thread accumulates TM × TN outputs
 * in registers. Threads own rows ty + i·(BM/TM) and columns tx + j·(BN/TN), so neighbouring threads read
 * neighbouring workgroup-memory words and write neighbouring output columns.
 *
 * Batches (matmul's batch, a convolution's groups) and split-K slices share the z dimension: z = batch·splits +
 * split. With splits > 1 each slice writes a partial product that `splitSumKernel` adds up; this keeps many
 * workgroups busy when M × N is small and K is long (a convolution's weight gradient).
 */
export interface TileConfig {
  readonly bm: number;
  readonly bn: number;
  readonly bk: number;
  readonly tm: number;
  readonly tn: number;
}

export const TILES: Record<"small" | "medium" | "large", TileConfig> = {
  small: { bm: 32, bn: 32, bk: 16, tm: 2, tn: 2 },
  medium: { bm: 64, bn: 64, bk: 16, tm: 4, tn: 4 },
  large: { bm: 128, bn: 128, bk: 8, tm: 8, tn: 8 },
};

/** Picks a tile for an M × N output: big tiles reuse more data, small ones keep the GPU busy on small outputs. */
export function chooseTile(m: number, n: number, batch: number): TileConfig {
  if (m >= 128 && n >= 128 && m * n * batch >= 1024 * 1024) return TILES.large;
  if (m >= 48 && n >= 48 && m * n * batch >= 128 * 128) return TILES.medium;
  return TILES.small;
}

/** Parameter words every GEMM reads first: M, N, K, splits, kChunk, zBase; problem parameters start here. */
export const GEMM_BASE_WORDS = 6;

export interface GemmProblem {
  /** Unique per problem kind and specialisation (without the tile). */
  readonly key: string;
  readonly type: "f32" | "i32";
  /** Read-only inputs, in binding order (name, WGSL type). */
  readonly inputs: readonly [string, string][];
  /**
   * Module-scope WGSL: `var<private>` problem sizes and the functions `loadA_(batch, m, k)`,
   * `loadB_(batch, k, n)` (called with m < M, n < N, k < K) and `outIndex_(batch, m, n)` (flat output index).
   */
  readonly decls: string;
  /** WGSL statements run once per thread first: set the private sizes from the parameter block. */
  readonly prologue: string;
  /** Whether consecutive threads should load consecutive m of A (else consecutive k). */
  readonly aMFast: boolean;
  /** Whether consecutive threads should load consecutive n of B (else consecutive k). */
  readonly bNFast: boolean;
}

export function gemmKernel(problem: GemmProblem, tile: TileConfig, partial: boolean): KernelSpec {
  const { bm, bn, bk, tm, tn } = tile;
  const tx = bn / tn, ty = bm / tm;
  if (tx * ty !== 256) throw new Error(`gemm tile ${bm}×${bn}/${tm}×${tn} does not use 256 threads`);
  const aLoads = (bm * bk) / 256, bLoads = (bk * bn) / 256;
  const T = problem.type;
  const zero = T === "f32" ? "0.0" : "0i";
  return {
    key: `gemm:${problem.key}:${T}:${bm}x${bn}x${bk}/${tm}x${tn}:${partial ? "partial" : "direct"}`,
    inputs: problem.inputs.length,
    outputs: 1,
    source: () => {
      const accDecl: string[] = [];
      const fma: string[] = [];
      const store: string[] = [];
      for (let i = 0; i < tm; i++) accDecl.push(`var a${i}: ${T};`);
      for (let j = 0; j < tn; j++) accDecl.push(`var b${j}: ${T};`);
      for (let i = 0; i < tm; i++) {
        for (let j = 0; j < tn; j++) {
          accDecl.push(`var c${i}_${j}: ${T} = ${zero};`);
          fma.push(`c${i}_${j} = c${i}_${j} + a${i} * b${j};`);
          store.push(`{ let m = row0 + ty + ${i * ty}u; let n = col0 + tx + ${j * tx}u;
      if (m < M && n < N) { out[${partial ? "split * partSize + " : ""}outIndex_(batch, m, n)] = c${i}_${j}; } }`);
        }
      }
      const loadAIdx = problem.aMFast
        ? `let mm = idx % ${bm}u; let kk = idx / ${bm}u;`
        : `let kk = idx % ${bk}u; let mm = idx / ${bk}u;`;
      const loadBIdx = problem.bNFast
        ? `let nn = idx % ${bn}u; let kk = idx / ${bn}u;`
        : `let kk = idx % ${bk}u; let nn = idx / ${bk}u;`;
      const aRegs = Array.from({ length: tm }, (_, i) => `a${i} = As[kb + ty + ${i * ty}u];`).join(" ");
      const bRegs = Array.from({ length: tn }, (_, j) => `b${j} = Bs[kn + tx + ${j * tx}u];`).join(" ");
      return `
${storageDecls(problem.inputs, [["out", `array<${T}>`]])}
${problem.decls}
var<workgroup> As: array<${T}, ${bk * bm}>;
var<workgroup> Bs: array<${T}, ${bk * bn}>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let M = pu(0u); let N = pu(1u); let K = pu(2u); let splits = pu(3u); let kChunk = pu(4u);
  let z = wid.z + pu(5u);
  let batch = z / splits; let split = z % splits;
  let partSize = pu(${GEMM_BASE_WORDS}u);
  ${problem.prologue}
  let kBegin = split * kChunk;
  let kEnd = min(K, kBegin + kChunk);
  let row0 = wid.y * ${bm}u; let col0 = wid.x * ${bn}u;
  let tx = lid % ${tx}u; let ty = lid / ${tx}u;
  ${accDecl.join("\n  ")}
  for (var k0 = kBegin; k0 < kEnd; k0 += ${bk}u) {
    for (var t = 0u; t < ${aLoads}u; t++) {
      let idx = lid + t * 256u;
      ${loadAIdx}
      let m = row0 + mm; let k = k0 + kk;
      var v: ${T} = ${zero};
      if (m < M && k < kEnd) { v = loadA_(batch, m, k); }
      As[kk * ${bm}u + mm] = v;
    }
    for (var t = 0u; t < ${bLoads}u; t++) {
      let idx = lid + t * 256u;
      ${loadBIdx}
      let n = col0 + nn; let k = k0 + kk;
      var v: ${T} = ${zero};
      if (n < N && k < kEnd) { v = loadB_(batch, k, n); }
      Bs[kk * ${bn}u + nn] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${bk}u; kk++) {
      let kb = kk * ${bm}u; let kn = kk * ${bn}u;
      ${aRegs}
      ${bRegs}
      ${fma.join("\n      ")}
    }
    workgroupBarrier();
  }
  ${store.join("\n  ")}
}`;
    },
  };
}

/** out[i] = Σ_s part[s·size + i]: adds up split-K partial products (params: size, splits). */
export function splitSumKernel(type: "f32" | "i32"): KernelSpec {
  return {
    key: `gemm-splitsum:${type}`,
    inputs: 1,
    outputs: 1,
    source: () => `
${storageDecls([["part", `array<${type}>`]], [["out", `array<${type}>`]])}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_(wid, nwg, lid, 256u);
  let size = pu(0u); let splits = pu(1u);
  if (i >= size) { return; }
  var acc = part[i];
  for (var s = 1u; s < splits; s++) { acc = acc + part[s * size + i]; }
  out[i] = acc;
}`,
  };
}

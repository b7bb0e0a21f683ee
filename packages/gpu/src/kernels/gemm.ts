import { storageDecls } from "../bindings.ts";
import type { KernelSpec } from "../runtime.ts";
import { InternalError } from "@backprop/tensor";

/**
 * Tiled GEMM template shared by matmul and the three convolution passes (implicit GEMM: the convolution's
 * operands are read straight from the NCHW tensors, nothing is unfolded into memory).
 *
 * A workgroup computes a BM × BN tile of C = A·B, walking K in steps of BK: each step stages a BM × BK slice of
 * A (stored k-major) and a BK × BN slice of B in workgroup memory, then every thread accumulates TM × TN outputs
 * in registers. Workgroup memory holds vec4s: a thread reads four rows of A and four columns of B with one
 * load each and updates four outputs with one vector multiply-add. Threads own row quads ty + i·(BM/TM/4)…
 * and column quads tx + j·(BN/TN/4)…, interleaved so that neighbouring threads read neighbouring vec4s and
 * write neighbouring 16-byte pieces of the output.
 *
 * Batches (matmul's batch, a convolution's groups) and split-K slices share the z dimension: z = batch·splits +
 * split. With splits > 1 each slice writes a partial product that `splitSumKernel` adds up; this keeps many
 * workgroups busy when M × N is small and K is long (a convolution's weight gradient).
 */
export interface TileConfig {
  readonly bm: number;
  readonly bn: number;
  readonly bk: number;
  /** Outputs per thread along M and N (multiples of 4). */
  readonly tm: number;
  readonly tn: number;
}

export const TILES: Record<"small" | "medium" | "large", TileConfig> = {
  small: { bm: 32, bn: 32, bk: 16, tm: 4, tn: 4 },
  medium: { bm: 64, bn: 64, bk: 16, tm: 8, tn: 8 },
  large: { bm: 128, bn: 128, bk: 8, tm: 8, tn: 8 },
};

/** Threads of a workgroup running `tile`. */
export function tileThreads(tile: TileConfig): number {
  return (tile.bm / tile.tm) * (tile.bn / tile.tn);
}

/**
 * Picks a tile for an M × N output (times `batch`): the biggest tile that still gives enough workgroups to fill a
 * large GPU (a few per compute unit; WebGPU does not say how many units there are). Big tiles reuse each loaded
 * value more; small ones keep the GPU busy on small outputs, and split-K covers long reductions.
 */
export function chooseTile(m: number, n: number, batch: number): TileConfig {
  const tiles = (t: TileConfig) => Math.ceil(m / t.bm) * Math.ceil(n / t.bn) * batch;
  if (m >= 128 && n >= 128 && tiles(TILES.large) >= 192) return TILES.large;
  if (m >= 48 && n >= 48 && tiles(TILES.medium) >= 64) return TILES.medium;
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
  if (tm % 4 !== 0 || tn % 4 !== 0) {
    throw new InternalError(`gemm tile ${bm}×${bn}: outputs per thread must be multiples of 4, got ${tm}×${tn}`);
  }
  // Quads (groups of four rows or columns) per tile and per thread.
  const qm = bm / 4, qn = bn / 4, tqm = tm / 4, tqn = tn / 4;
  const tx = qn / tqn, ty = qm / tqm;
  const threads = tx * ty;
  const aLoads = (bm * bk) / threads, bLoads = (bk * bn) / threads;
  const T = problem.type;
  const V = `vec4<${T}>`;
  const zero = T === "f32" ? "0.0" : "0i";
  return {
    key: `gemm:${problem.key}:${T}:${bm}x${bn}x${bk}/${tm}x${tn}:${partial ? "partial" : "direct"}`,
    inputs: problem.inputs.length,
    outputs: 1,
    source: () => {
      const decl: string[] = [];
      const reads: string[] = [];
      const fma: string[] = [];
      const store: string[] = [];
      for (let i = 0; i < tqm; i++) {
        decl.push(`var a${i}: ${V};`);
        reads.push(`a${i} = As[ka + ty + ${i * ty}u];`);
      }
      for (let j = 0; j < tqn; j++) {
        decl.push(`var b${j}: ${V};`);
        reads.push(`b${j} = Bs[kb + tx + ${j * tx}u];`);
      }
      for (let i = 0; i < tqm; i++) {
        for (let r = 0; r < 4; r++) {
          for (let j = 0; j < tqn; j++) {
            const c = `c${i * 4 + r}_${j}`;
            decl.push(`var ${c}: ${V} = ${V}(${zero});`);
            fma.push(`${c} = ${c} + a${i}[${r}] * b${j};`);
            store.push(`{ let m = row0 + (ty + ${i * ty}u) * 4u + ${r}u; let n0 = col0 + (tx + ${j * tx}u) * 4u;
    if (m < M) { for (var q = 0u; q < 4u; q++) { if (n0 + q < N) { out[${partial ? "split * partSize + " : ""}outIndex_(batch, m, n0 + q)] = ${c}[q]; } } } }`);
          }
        }
      }
      const loadAIdx = problem.aMFast
        ? `let mm = idx % ${bm}u; let kk = idx / ${bm}u;`
        : `let kk = idx % ${bk}u; let mm = idx / ${bk}u;`;
      const loadBIdx = problem.bNFast
        ? `let nn = idx % ${bn}u; let kk = idx / ${bn}u;`
        : `let kk = idx % ${bk}u; let nn = idx / ${bk}u;`;
      return `
${storageDecls(problem.inputs, [["out", `array<${T}>`]])}
${problem.decls}
var<workgroup> As: array<${V}, ${bk * qm}>;
var<workgroup> Bs: array<${V}, ${bk * qn}>;
@compute @workgroup_size(${threads})
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
  ${decl.join("\n  ")}
  for (var k0 = kBegin; k0 < kEnd; k0 += ${bk}u) {
    for (var t = 0u; t < ${aLoads}u; t++) {
      let idx = lid + t * ${threads}u;
      ${loadAIdx}
      let m = row0 + mm; let k = k0 + kk;
      var v: ${T} = ${zero};
      if (m < M && k < kEnd) { v = loadA_(batch, m, k); }
      As[kk * ${qm}u + mm / 4u][mm % 4u] = v;
    }
    for (var t = 0u; t < ${bLoads}u; t++) {
      let idx = lid + t * ${threads}u;
      ${loadBIdx}
      let n = col0 + nn; let k = k0 + kk;
      var v: ${T} = ${zero};
      if (n < N && k < kEnd) { v = loadB_(batch, k, n); }
      Bs[kk * ${qn}u + nn / 4u][nn % 4u] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${bk}u; kk++) {
      let ka = kk * ${qm}u; let kb = kk * ${qn}u;
      ${reads.join(" ")}
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

import { ParamWriter } from "../params.ts";
import type { PooledBuffer } from "../pool.ts";
import { grid, type GpuRuntime } from "../runtime.ts";
import { chooseTile, gemmKernel, type GemmProblem, splitSumKernel } from "./gemm.ts";

export interface GemmSizes {
  batch: number;
  m: number;
  n: number;
  k: number;
  /** Elements of the output (every one is written). */
  outSize: number;
}

// Below this many output tiles a long K is split so the GPU has enough workgroups to run at once.
const SPLIT_BELOW_TILES = 128;
const MIN_K_PER_SPLIT = 256;
const MAX_SPLITS = 64;

/**
 * Where a split GEMM's partial products go: `workspace(splits)` returns a buffer of `splits · outSize` words
 * whose slices the caller adds up itself (deferred into the output's consumer), or undefined to have them added
 * here by a pass of their own into `out()`.
 */
export interface GemmOutput {
  out(): PooledBuffer;
  workspace?(splits: number): PooledBuffer | undefined;
}

/**
 * Runs a GEMM problem: picks the tile and the split-K factor, dispatches (in chunks of the z limit), and adds
 * the split partial products (unless the caller takes the workspace). The split workspace is shrunk to fit one
 * binding, so only tensors that cannot fit on their own are refused. Returns the number of splits.
 */
export function runGemm(
  rt: GpuRuntime,
  problem: GemmProblem,
  s: GemmSizes,
  inputs: readonly PooledBuffer[],
  output: GemmOutput,
  problemParams: (p: ParamWriter) => void,
): number {
  if (s.outSize === 0) return 1;
  const tile = chooseTile(s.m, s.n, s.batch);
  const tilesX = Math.ceil(s.n / tile.bn), tilesY = Math.ceil(s.m / tile.bm);
  const tiles = tilesX * tilesY * s.batch;
  let splits = 1;
  if (tiles < SPLIT_BELOW_TILES && s.k >= 2 * MIN_K_PER_SPLIT) {
    splits = Math.min(Math.ceil((2 * SPLIT_BELOW_TILES) / tiles), Math.floor(s.k / MIN_K_PER_SPLIT), MAX_SPLITS);
    const maxWords = rt.limits.maxStorageBufferBindingSize / 4;
    while (splits > 1 && splits * s.outSize > maxWords) splits--;
  }
  const kChunk = splits > 1 ? Math.ceil(Math.ceil(s.k / splits) / tile.bk) * tile.bk : Math.max(s.k, 1);
  if (splits > 1) splits = Math.ceil(s.k / kChunk);
  const taken = splits > 1 ? output.workspace?.(splits) : undefined;
  const target = taken ?? (splits > 1 ? rt.pool.acquire(splits * s.outSize * 4) : output.out());
  const spec = gemmKernel(problem, tile, splits > 1);
  const zTotal = s.batch * splits, zMax = rt.limits.maxComputeWorkgroupsPerDimension;
  for (let zBase = 0; zBase < zTotal; zBase += zMax) {
    const p = new ParamWriter().u32s([s.m, s.n, s.k, splits, kChunk, zBase, s.outSize]);
    problemParams(p);
    rt.dispatch(spec, [...inputs, target], p, [tilesX, tilesY, Math.min(zMax, zTotal - zBase)]);
  }
  if (splits > 1 && !taken) {
    const p = new ParamWriter().u32(s.outSize).u32(splits);
    rt.dispatch(splitSumKernel(problem.type), [target, output.out()], p, grid(Math.ceil(s.outSize / 256), zMax));
    rt.pool.release(target);
  }
  return splits;
}

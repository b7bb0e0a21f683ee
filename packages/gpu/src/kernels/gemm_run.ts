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
 * Runs a GEMM problem: picks the tile and the split-K factor, dispatches (in chunks of the z limit), and adds
 * the split partial products. The split workspace is shrunk to fit one binding, so only tensors that cannot
 * fit on their own are refused.
 */
export function runGemm(
  rt: GpuRuntime,
  problem: GemmProblem,
  s: GemmSizes,
  inputs: readonly PooledBuffer[],
  out: PooledBuffer,
  problemParams: (p: ParamWriter) => void,
): void {
  if (s.outSize === 0) return;
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
  const target = splits > 1 ? rt.pool.acquire(splits * s.outSize * 4) : out;
  const spec = gemmKernel(problem, tile, splits > 1);
  const zTotal = s.batch * splits, zMax = rt.limits.maxComputeWorkgroupsPerDimension;
  for (let zBase = 0; zBase < zTotal; zBase += zMax) {
    const p = new ParamWriter().u32s([s.m, s.n, s.k, splits, kChunk, zBase, s.outSize]);
    problemParams(p);
    rt.dispatch(spec, [...inputs, target], p, [tilesX, tilesY, Math.min(zMax, zTotal - zBase)]);
  }
  if (splits > 1) {
    const p = new ParamWriter().u32(s.outSize).u32(splits);
    rt.dispatch(splitSumKernel(problem.type), [target, out], p, grid(Math.ceil(s.outSize / 256), zMax));
    rt.pool.release(target);
  }
}

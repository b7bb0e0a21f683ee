// Float32 max pooling on storages in the kernels' memory (the branch-free kernel of pool_kernel.ts), split
// over the worker pool by ranges of planes when large. Indices are written in place too when their int32
// storage lives in kernel memory, else through a staging block.
import type { Pool2dParams, Storage } from "../backend.ts";
import { activeKernels, activeVariant, wasmRuntime, workerPool } from "./wasm/runtime.ts";
import { stagingBlock } from "./operand_address.ts";
import { dataOf, ptrOf } from "./storage.ts";

const INDEX_SLOT = 6;
/** Below this many window taps the pass stays on the calling thread. */
const PARALLEL_MIN_TAPS = 1 << 18;

/** out and indices of max pooling; false when x or out is not in kernel memory. */
export function maxPool2dWasm(x: Storage, p: Pool2dParams, out: Storage, indices: Storage): boolean {
  const px = ptrOf(x), po = ptrOf(out);
  if (!px || !po || x.dtype !== "float32") return false;
  const planes = p.n * p.c, outPlane = p.oh * p.ow;
  const direct = ptrOf(indices);
  const pi = direct || stagingBlock(INDEX_SLOT, planes * outPlane * 4);
  const kernels = activeKernels();
  const geometry = [p.h, p.w, p.kh, p.kw, p.oh, p.ow, p.strideH, p.strideW, p.padH, p.padW, p.dilationH, p.dilationW];
  const pool = planes * outPlane * p.kh * p.kw >= PARALLEL_MIN_TAPS && planes >= 2 ? workerPool() : undefined;
  if (!pool) kernels.maxPoolF32(px, po, pi, planes, ...(geometry as Geometry));
  else {
    const parts = Math.min(planes, 4 * (pool.size + 1));
    const chunks: number[][] = [];
    for (let i = 0; i < parts; i++) {
      const a = Math.floor((planes * i) / parts), b = Math.floor((planes * (i + 1)) / parts);
      if (b > a) chunks.push([px + a * p.h * p.w * 4, po + a * outPlane * 4, pi + a * outPlane * 4, b - a, ...geometry]);
    }
    pool.run("maxPoolF32", activeVariant(), chunks, (args) => kernels.maxPoolF32(...(args as Parameters<typeof kernels.maxPoolF32>)));
  }
  if (!direct) (dataOf(indices) as Int32Array).set(new Int32Array(wasmRuntime().heap.f32.buffer, pi, planes * outPlane));
  return true;
}

type Geometry = [number, number, number, number, number, number, number, number, number, number, number, number];

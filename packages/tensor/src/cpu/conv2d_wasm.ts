// Float32 convolutions on storages in the kernels' memory, lowered to one large GEMM per block of images
// instead of one small GEMM per image. The col matrix of a block of nb images is [C·kh·kw, nb·OH·OW] (the
// images side by side), so the product's n is nb·OH·OW: 128 columns for the 2×2 maps of a VGG-style
// network's last layers at batch 32, where a per-image product (n = 4) would leave the 5×8 register tile
// mostly empty. The product comes out as [outC, nb, L] and one reorder pass turns it into NCHW.
//
//   forward:        out = W · im2col(x)
//   input grad:     dx  = col2im(Wᵀ · dY')           dY' = dY reordered to [outC, nb, L]
//   weight grad:    dW  = Σ_blocks dY' · im2col(x)ᵀ  (deterministic: fixed block order, no atomics)
//
// im2col and col2im split over the worker pool by image (and channel range when the block has few images);
// each image's col columns and dx plane are its own, so no two chunks write the same bytes. The GEMM splits
// itself. Scratch (col, the reordered product) is grow-only and reused by every call.
import type { Conv2dParams, Storage } from "../backend.ts";
import { gemm } from "./wasm/gemm.ts";
import { activeKernels, activeVariant, wasmRuntime, workerPool } from "./wasm/runtime.ts";
import { operandAddress, stagingBlock } from "./operand_address.ts";
import { ptrOf } from "./storage.ts";

/** Scratch slots (see stagingBlock): 0–2 are the elementwise operands' staging. */
const COL_SLOT = 3, PRODUCT_SLOT = 4, WEIGHT_SLOT = 5;
/**
 * Images per block: as many as keep the col matrix under this many floats (32 MiB), at least one. Batch 32
 * of a 32×32 network is one block; a batch of 500 for evaluation is cut into blocks rather than needing a
 * 300 MB col matrix.
 */
const COL_BLOCK_FLOATS = 1 << 23;
/** Below this many col elements im2col/col2im run on the calling thread: waking a worker costs more. */
const PARALLEL_MIN_COL = 1 << 16;
/** The pool's chunk table holds at most this many chunks per job. */
const MAX_CHUNKS = 64;

interface Plan {
  cg: number;
  og: number;
  K: number;
  L: number;
  nb: number;
}

function plan(p: Conv2dParams): Plan {
  const cg = p.c / p.groups, og = p.outC / p.groups, K = cg * p.kh * p.kw, L = p.oh * p.ow;
  const nb = Math.max(1, Math.min(p.n, Math.floor(COL_BLOCK_FLOATS / Math.max(1, K * L))));
  return { cg, og, K, L, nb };
}

/** The 12 geometry arguments after (src, dst, channels) of the im2col/col2im exports. */
function geometry(p: Conv2dParams, gapBytes: number): number[] {
  return [p.h, p.w, p.kh, p.kw, p.strideH, p.strideW, p.padH, p.padW, p.dilationH, p.dilationW, gapBytes];
}

/**
 * Runs im2col (x → col) or col2im (col → x) for images n0 … n0 + count − 1 of group g, the col matrix of the
 * block at `col` with images side by side.
 */
function lowerBlock(fn: "im2col" | "col2im", x: number, col: number, p: Conv2dParams, pl: Plan, g: number, n0: number, count: number): void {
  const { cg, K, L } = pl;
  const plane = p.h * p.w * 4, colRowBytes = count * L * 4, perChannelRows = p.kh * p.kw;
  const geo = geometry(p, (count - 1) * L * 4);
  const kernels = activeKernels();
  const pool = K * L * count >= PARALLEL_MIN_COL ? workerPool() : undefined;
  // Channel ranges per image, so that even a block of one or two images gives the pool several chunks.
  const splits = pool ? Math.max(1, Math.min(cg, Math.ceil((4 * (pool.size + 1)) / count))) : 1;
  const chunks: number[][] = [];
  for (let i = 0; i < count; i++) {
    for (let s = 0; s < splits; s++) {
      const c0 = Math.floor((cg * s) / splits), c1 = Math.floor((cg * (s + 1)) / splits);
      if (c1 === c0) continue;
      const xAt = x + ((n0 + i) * p.c + g * cg + c0) * plane;
      const colAt = col + c0 * perChannelRows * colRowBytes + i * L * 4;
      chunks.push(fn === "im2col" ? [xAt, colAt, c1 - c0, ...geo] : [colAt, xAt, c1 - c0, ...geo]);
    }
  }
  const call = (a: readonly number[]) => kernels[fn](...(a as Parameters<typeof kernels.im2col>));
  if (!pool) {
    for (const c of chunks) call(c);
    return;
  }
  for (let at = 0; at < chunks.length; at += MAX_CHUNKS) {
    pool.run(fn, activeVariant(), chunks.slice(at, at + MAX_CHUNKS), call);
  }
}

/** Addresses of the operands, or undefined when one is not in kernel memory (the caller falls back). */
function addresses(a: Storage, b: Storage, out: Storage, weightIsB: boolean): [number, number, number] | undefined {
  const po = ptrOf(out);
  if (!po || a.dtype !== "float32") return undefined;
  // The weight may be an ordinary array when small; the activations are always large enough to live there.
  const pa = weightIsB ? ptrOf(a) : operandAddress(a, WEIGHT_SLOT);
  const pb = weightIsB ? operandAddress(b, WEIGHT_SLOT) : ptrOf(b);
  if (!pa || !pb) return undefined;
  return [pa, pb, po];
}

/** out [n, outC, oh, ow] = conv2d(x, weight); false when the operands are not in kernel memory. */
export function conv2dForwardWasm(x: Storage, weight: Storage, p: Conv2dParams, out: Storage): boolean {
  const at = addresses(x, weight, out, true);
  if (!at) return false;
  const [px, pw, po] = at;
  const pl = plan(p);
  const { og, K, L, nb } = pl;
  const col = stagingBlock(COL_SLOT, K * nb * L * 4);
  const product = stagingBlock(PRODUCT_SLOT, og * nb * L * 4);
  const f32 = wasmRuntime().heap.f32;
  const kernels = activeKernels();
  for (let n0 = 0; n0 < p.n; n0 += nb) {
    const count = Math.min(nb, p.n - n0), cols = count * L;
    for (let g = 0; g < p.groups; g++) {
      lowerBlock("im2col", px, col, p, pl, g, n0, count);
      gemm(false, false, og, cols, K, f32, (pw >>> 2) + g * og * K, K, f32, col >>> 2, cols, f32, product >>> 2, cols, 0);
      // product [og, count, L] → out[n0 + i, g·og + o, :]
      kernels.swapBlocksF32(product, po + (n0 * p.outC + g * og) * L * 4, og, count, L, count, p.outC);
    }
  }
  return true;
}

/** dx [n, c, h, w] from gradOut and the weight; false when the operands are not in kernel memory. */
export function conv2dInputGradWasm(gradOut: Storage, weight: Storage, p: Conv2dParams, dx: Storage): boolean {
  const at = addresses(gradOut, weight, dx, true);
  if (!at) return false;
  const [pg, pw, pdx] = at;
  const pl = plan(p);
  const { og, K, L, nb } = pl;
  const col = stagingBlock(COL_SLOT, K * nb * L * 4);
  const product = stagingBlock(PRODUCT_SLOT, og * nb * L * 4);
  const f32 = wasmRuntime().heap.f32;
  const kernels = activeKernels();
  // col2im adds into dx.
  f32.fill(0, pdx >>> 2, (pdx >>> 2) + p.n * p.c * p.h * p.w);
  for (let n0 = 0; n0 < p.n; n0 += nb) {
    const count = Math.min(nb, p.n - n0), cols = count * L;
    for (let g = 0; g < p.groups; g++) {
      // gradOut[n0 + i, g·og + o, :] → product [og, count, L]
      kernels.swapBlocksF32(pg + (n0 * p.outC + g * og) * L * 4, product, count, og, L, p.outC, count);
      gemm(true, false, K, cols, og, f32, (pw >>> 2) + g * og * K, K, f32, product >>> 2, cols, f32, col >>> 2, cols, 0);
      lowerBlock("col2im", pdx, col, p, pl, g, n0, count);
    }
  }
  return true;
}

/** dW [outC, c / groups, kh, kw] summed over the batch; false when the operands are not in kernel memory. */
export function conv2dWeightGradWasm(x: Storage, gradOut: Storage, p: Conv2dParams, dw: Storage): boolean {
  const px = ptrOf(x), pg = ptrOf(gradOut), pdw = ptrOf(dw);
  if (!px || !pg || !pdw || x.dtype !== "float32") return false;
  const pl = plan(p);
  const { og, K, L, nb } = pl;
  const col = stagingBlock(COL_SLOT, K * nb * L * 4);
  const product = stagingBlock(PRODUCT_SLOT, og * nb * L * 4);
  const f32 = wasmRuntime().heap.f32;
  const kernels = activeKernels();
  for (let n0 = 0; n0 < p.n; n0 += nb) {
    const count = Math.min(nb, p.n - n0), cols = count * L;
    for (let g = 0; g < p.groups; g++) {
      lowerBlock("im2col", px, col, p, pl, g, n0, count);
      kernels.swapBlocksF32(pg + (n0 * p.outC + g * og) * L * 4, product, count, og, L, p.outC, count);
      // Blocks after the first add to what the first wrote.
      gemm(false, true, og, K, cols, f32, product >>> 2, cols, f32, col >>> 2, cols, f32, (pdw >>> 2) + g * og * K, K, n0 === 0 ? 0 : 1);
    }
  }
  return true;
}

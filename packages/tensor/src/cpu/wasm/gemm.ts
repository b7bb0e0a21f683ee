// SGEMM entry point for the CPU backend: C = op(A)·op(B) (+ C), row-major float32. Operands that already
// live in the kernels' memory (WasmFloat32Buffer views) are used in place; others are copied in and the
// result copied out. Large products are split across the worker pool by rows or columns of C.
import { scratch } from "./scratch.ts";
import { GEMM_EPILOGUE } from "./gemm_kernel.ts";
import type { WorkerPool } from "./pool.ts";
import { DTypeError, ShapeError, ValueError } from "../../errors.ts";
import {
  activeKernels,
  activeVariant,
  callerWorkArea,
  wasmRuntime,
  workerPool,
} from "./runtime.ts";

/**
 * Below this many multiply-adds a product stays on the calling thread: waking a worker and waiting for
 * it costs tens of microseconds, about what a 96³ product takes on one core.
 */
export const PARALLEL_MIN_MACS = 96 * 96 * 96;

/**
 * A parallel product is cut into chunks that threads claim as they go, largest first and shrinking (each
 * a share of what is left), so a thread the OS runs late only shifts work to the others and nobody waits
 * long for the last chunk. Chunks of at least MIN_CHUNK_ROWS rows (or MIN_CHUNK_COLS columns) keep the
 * re-packing of the other operand, which every chunk does, to a few percent.
 */
const MIN_CHUNK_ROWS = 40;
const MIN_CHUNK_COLS = 64;
/** Bound of the pool's chunk table. */
const MAX_CHUNKS = 64;
/**
 * A chunk of columns re-packs the whole of A (a chunk of rows would re-pack B, but under "few" B is packed
 * once for all threads), a cost that does not depend on the chunk's length,
 * while its arithmetic grows with it: re-packing one element (a 4×4 transpose when B is transposed) costs
 * about as much as 25 multiply-adds per row of the chunk, so a 50-row chunk spends about a quarter of its
 * time re-packing and a 100-row one about an eighth. Under the "few" policy chunks are therefore at least
 * FEW_MIN_CHUNK long (but short enough that every thread gets one) and at least 1/(CHUNKS_PER_THREAD·threads)
 * of the side: about two chunks per thread. Chunks of rows over the B that "few" packs once for all threads
 * re-pack nothing and shrink down to MIN_CHUNK_ROWS instead: with another process taking half of one core,
 * 1024³ ran 29.3 ms against 34.3 with two chunks per thread, and 25.2 against 25.6 ms without it
 * (packages/tensor/bench/gemm_under_load.ts).
 */
const FEW_MIN_CHUNK = 96;
const CHUNKS_PER_THREAD = 2;

/**
 * How a parallel product is cut. "few" (the default) bounds the chunk count by CHUNKS_PER_THREAD where chunks
 * re-pack an operand and, when C is cut by rows, packs B once for all threads (those chunks then re-pack nothing
 * and shrink freely); "guided" is the earlier rule (minimum chunk only, B re-packed per chunk), kept selectable
 * so benchmarks can compare the two in one process.
 */
export type GemmSplitPolicy = "few" | "guided";
let splitPolicy: GemmSplitPolicy = "few";

/**
 * Whether the threads pack the shared B together, each a range of its K blocks, before the product (true, the
 * default) or the calling thread packs it alone while the others wait. Packing together costs a second wake-up of
 * the workers per product: faster (1.03–1.14×) whenever the second core was free, slower when the machine was
 * heavily loaded (docs/PERFORMANCE.md). Selectable so benchmarks can compare the two.
 */
let parallelPacking = true;

/**
 * A product much deeper than it is wide or tall (the MLP's x·W1ᵀ: 200×100 outputs over k = 3072) is cut along K in
 * two halves: each thread packs and multiplies only its half of A and B — no operand is packed twice and no
 * packing waits for another thread, with one wake-up — and the caller then adds the second half's partial C into
 * the first (gemmAddPartial, which also runs the epilogue). The cut depends on the shape only, never on the thread
 * count, so one and two threads give the same bits. Adding the partial costs m·n adds, negligible once
 * k ≥ KSPLIT_MIN_K; k ≥ KSPLIT_DEPTH_RATIO·m (m ≥ n) keeps the partial C small next to the operands.
 */
const KSPLIT_MIN_K = 1024;
const KSPLIT_DEPTH_RATIO = 4;
let kSplitEnabled = true;

/** Enables (true, the default) or disables cutting deep products along K (for benchmarks); returns the previous. */
export function setGemmKSplit(on: boolean): boolean {
  const before = kSplitEnabled;
  kSplitEnabled = on;
  return before;
}

/** Where gemm cuts an m×n×k product along K: the first depth of the second half, or 0 when it does not cut. */
export function kSplitPoint(m: number, n: number, k: number): number {
  if (!kSplitEnabled || m * n * k < PARALLEL_MIN_MACS) return 0;
  // Only tall C (m ≥ n, split by rows otherwise): wide deep products, split by columns, gained nothing (0.93–0.99×).
  if (m < n || k < KSPLIT_MIN_K || k < KSPLIT_DEPTH_RATIO * m) return 0;
  // Halves on a multiple of 8 depth steps: whole unrolled micro-kernel iterations and 4×4 packing transposes.
  return Math.floor(k / 16) * 8;
}

/** Whether row chunks over a shared B shrink to MIN_CHUNK_ROWS (true, the default) or follow minChunkFor. */
let shrinkSharedRowChunks = true;

/**
 * Lets row chunks over a shared B shrink to MIN_CHUNK_ROWS (true, the default) or keeps them at the "few" policy's
 * two per thread (for benchmarks); returns the previous.
 */
export function setGemmShrinkSharedRowChunks(on: boolean): boolean {
  const before = shrinkSharedRowChunks;
  shrinkSharedRowChunks = on;
  return before;
}

/** Selects parallel (true) or single-thread packing of the shared B (for benchmarks); returns the previous. */
export function setGemmParallelPacking(on: boolean): boolean {
  const before = parallelPacking;
  parallelPacking = on;
  return before;
}

/** Selects how parallel products are cut into chunks (for benchmarks); returns the previous policy. */
export function setGemmSplitPolicy(policy: GemmSplitPolicy): GemmSplitPolicy {
  if (policy !== "few" && policy !== "guided") {
    throw new ValueError(
      `setGemmSplitPolicy: policy must be "few" or "guided", got ${
        String(policy)
      }`,
    );
  }
  const before = splitPolicy;
  splitPolicy = policy;
  return before;
}

/**
 * Smallest chunk along a side of `length` cut for `threads` threads under the current policy; `floor` is
 * the "guided" policy's minimum (MIN_CHUNK_ROWS or MIN_CHUNK_COLS).
 */
export function minChunkFor(
  length: number,
  threads: number,
  floor: number,
): number {
  if (splitPolicy === "guided") return floor;
  const sized = Math.min(FEW_MIN_CHUNK, Math.ceil(length / threads));
  return Math.max(
    floor,
    sized,
    Math.ceil(length / (CHUNKS_PER_THREAD * threads)),
  );
}

function checkDim(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) {
    throw new ValueError(`gemm: ${name} must be an integer ≥ 0, got ${v}`);
  }
}

/** Checks a rows×cols operand with leading dimension ld at offset and returns how many elements it spans. */
function checkOperand(
  name: string,
  data: Float32Array,
  offset: number,
  ld: number,
  rows: number,
  cols: number,
): void {
  if (!(data instanceof Float32Array)) {
    throw new DTypeError(
      `gemm: ${name} must be a Float32Array, got ${
        Object.prototype.toString.call(data).slice(8, -1)
      }`,
    );
  }
  checkDim(`${name} offset`, offset);
  checkDim(`ld${name.toLowerCase()}`, ld);
  if (rows === 0 || cols === 0) return;
  if (ld < cols) {
    throw new ShapeError(
      `gemm: ld${name.toLowerCase()} = ${ld} is less than ${cols} columns`,
    );
  }
  const end = offset + (rows - 1) * ld + cols;
  if (end > data.length) {
    throw new ShapeError(
      `gemm: ${name} (${rows}×${cols}, ld ${ld}, offset ${offset}) needs ${end} elements, has ${data.length}`,
    );
  }
}

/**
 * What the product does to C after its last K block: add a bias row — the n floats bias[offset … offset + n) —
 * to every row of C, then max(·, 0) when `relu`. Applied to each tile as it is stored, in the order
 * matmul-then-add computes, so C equals the composed ops bit for bit.
 */
export interface GemmBias {
  bias: Float32Array;
  offset: number;
  relu: boolean;
}

/** Where an operand sits in the memory: its byte address and the leading dimension to use there. */
interface Placed {
  ptr: number;
  ld: number;
}

/**
 * out = A·B (or with transposes) + beta·out.
 * - transA: A is stored k×m (its transpose is used); otherwise m×k. Likewise transB: n×k, otherwise k×n.
 * - Offsets and leading dimensions are in elements of the given arrays; all storage is row-major.
 * - beta 0 overwrites C (whatever it held, NaN included), 1 adds to it.
 * - `epilogue`, when given, adds a bias row and optionally applies ReLU (see GemmBias).
 */
export function gemm(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  aOffset: number,
  lda: number,
  b: Float32Array,
  bOffset: number,
  ldb: number,
  c: Float32Array,
  cOffset: number,
  ldc: number,
  beta: 0 | 1,
  epilogue?: GemmBias,
): void {
  checkDim("m", m);
  checkDim("n", n);
  checkDim("k", k);
  if (beta !== 0 && beta !== 1) {
    throw new ValueError(`gemm: beta must be 0 or 1, got ${beta}`);
  }
  const aRows = transA ? k : m, aCols = transA ? m : k;
  const bRows = transB ? n : k, bCols = transB ? k : n;
  checkOperand("A", a, aOffset, lda, aRows, aCols);
  checkOperand("B", b, bOffset, ldb, bRows, bCols);
  checkOperand("C", c, cOffset, ldc, m, n);
  if (epilogue) checkOperand("bias", epilogue.bias, epilogue.offset, n, 1, n);
  if (m === 0 || n === 0) return;

  const heap = wasmRuntime().heap;
  // Addresses of in-memory operands first: an allocation below may grow (and, unshared, detach) the memory.
  const inA = heap.owns(a.buffer),
    inB = heap.owns(b.buffer),
    inC = heap.owns(c.buffer),
    inBias = epilogue !== undefined && heap.owns(epilogue.bias.buffer);
  const direct = (x: Float32Array, off: number, ld: number): Placed => ({
    ptr: x.byteOffset + off * 4,
    ld,
  });
  const aDirect = inA ? direct(a, aOffset, lda) : undefined;
  const bDirect = inB ? direct(b, bOffset, ldb) : undefined;
  const cDirect = inC ? direct(c, cOffset, ldc) : undefined;
  const biasDirect = epilogue && inBias ? direct(epilogue.bias, epilogue.offset, n) : undefined;

  const aCount = inA || k === 0 ? 0 : aRows * aCols;
  const bCount = inB || k === 0 ? 0 : bRows * bCols;
  const cCount = inC ? 0 : m * n;
  const biasCount = epilogue && !inBias ? n : 0;
  // Room for B packed once for all threads, when the product may be split by rows (see run).
  const kSplit = kSplitPoint(m, n, k);
  const sharedCount = kSplit === 0 && splitPolicy === "few" && m >= n && k > 0 &&
      m * n * k >= PARALLEL_MIN_MACS
    ? Math.ceil(n / 8) * 8 * k
    : 0;
  // The second K half's partial C, when the product is cut along K.
  const partialCount = kSplit > 0 ? m * n : 0;
  const base = scratch((aCount + bCount + cCount + biasCount + sharedCount + partialCount) * 4);
  const f32 = heap.f32;
  let at = base;
  const copyIn = (
    x: Float32Array,
    off: number,
    ld: number,
    rows: number,
    cols: number,
    count: number,
  ): Placed => {
    const ptr = at;
    at += count * 4;
    if (count > 0) copyCompact(f32, ptr >>> 2, x, off, ld, rows, cols);
    return { ptr, ld: cols };
  };
  const A = aDirect ?? copyIn(a, aOffset, lda, aRows, aCols, aCount);
  const B = bDirect ?? copyIn(b, bOffset, ldb, bRows, bCols, bCount);
  let C: Placed;
  if (cDirect) C = cDirect;
  else if (beta === 1) C = copyIn(c, cOffset, ldc, m, n, cCount); // advances `at` past C itself
  else {
    C = { ptr: at, ld: n };
    at += cCount * 4;
  }
  const bias = epilogue ? biasDirect ?? copyIn(epilogue.bias, epilogue.offset, n, 1, n, biasCount) : undefined;
  const sharedB = sharedCount > 0 ? at : 0;
  at += sharedCount * 4;
  const epilogueCode = !epilogue ? GEMM_EPILOGUE.none : epilogue.relu ? GEMM_EPILOGUE.biasRelu : GEMM_EPILOGUE.bias;

  if (kSplit > 0) runKSplit(transA, transB, m, n, k, kSplit, A, B, C, beta, at, bias?.ptr ?? 0, epilogueCode);
  else run(transA, transB, m, n, k, A, B, C, beta, sharedB, bias?.ptr ?? 0, epilogueCode);

  if (!cDirect) {
    const from = heap.f32.subarray(C.ptr >>> 2, (C.ptr >>> 2) + m * n);
    if (ldc === n) c.set(from, cOffset);
    else {for (let i = 0; i < m; i++) {
        c.set(from.subarray(i * n, i * n + n), cOffset + i * ldc);
      }}
  }
}

/** Copies a rows×cols block with leading dimension ld into dense rows at element index `to`. */
function copyCompact(
  into: Float32Array,
  to: number,
  x: Float32Array,
  off: number,
  ld: number,
  rows: number,
  cols: number,
): void {
  if (ld === cols) into.set(x.subarray(off, off + rows * cols), to);
  else {for (let i = 0; i < rows; i++) {
      into.set(x.subarray(off + i * ld, off + i * ld + cols), to + i * cols);
    }}
}

function run(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  A: Placed,
  B: Placed,
  C: Placed,
  beta: 0 | 1,
  sharedB: number,
  biasPtr: number,
  epilogue: number,
): void {
  const kernels = activeKernels();
  const ta = transA ? 1 : 0, tb = transB ? 1 : 0;
  const pool = m * n * k >= PARALLEL_MIN_MACS ? workerPool() : undefined;
  const { mr, nr } = wasmRuntime().tiling;
  // Split the longer side of C: each chunk re-packs the whole of the other operand, the smaller one.
  const byRows = m >= n;
  const length = byRows ? m : n;
  const threads = pool ? pool.size + 1 : 1;
  const parts = pool
    ? guidedSplit(
      length,
      byRows ? mr : nr,
      threads,
      // Row chunks over a B packed once for all threads re-pack nothing, so they may be as short as MIN_CHUNK_ROWS:
      // the shrinking chunks then let a thread the OS runs late hand more of its share to the others.
      byRows && sharedB !== 0 && shrinkSharedRowChunks
        ? MIN_CHUNK_ROWS
        : minChunkFor(length, threads, byRows ? MIN_CHUNK_ROWS : MIN_CHUNK_COLS),
    )
    : [];
  if (!pool || parts.length < 2) {
    kernels.gemm(
      ta,
      tb,
      m,
      n,
      k,
      A.ptr,
      A.ld,
      B.ptr,
      B.ld,
      C.ptr,
      C.ld,
      beta,
      callerWorkArea(),
      0,
      biasPtr,
      epilogue,
    );
    return;
  }
  // Chunks of rows all read the whole of B: pack it once here (at sharedB, sized by gemm) rather than once
  // per chunk.
  const packedB = byRows && sharedB !== 0 ? sharedB : 0;
  if (packedB !== 0) {
    // K blocks are independent: with two or more, the threads pack disjoint ranges of them at once.
    const { kc } = wasmRuntime().tiling;
    const blocks = Math.ceil(k / kc);
    const parts = parallelPacking ? Math.min(blocks, threads) : 1;
    if (parts < 2) kernels.gemmPackB(tb, n, k, B.ptr, B.ld, packedB, 0, k);
    else {
      const packs = Array.from({ length: parts }, (_, i) => {
        const from = Math.floor((i * blocks) / parts) * kc, to = Math.min(k, Math.floor(((i + 1) * blocks) / parts) * kc);
        return [tb, n, k, B.ptr, B.ld, packedB, from, to];
      });
      pool.run("gemmPackB", activeVariant(), packs, (a) => kernels.gemmPackB(...(a as Parameters<typeof kernels.gemmPackB>)));
    }
  }
  const chunks = parts.map(([from, to]) =>
    gemmJob({
      transA,
      transB,
      rows: byRows ? to - from : m,
      cols: byRows ? n : to - from,
      depth: k,
      a: { ptr: byRows ? A.ptr + 4 * from * (transA ? 1 : A.ld) : A.ptr, ld: A.ld },
      b: { ptr: byRows ? B.ptr : B.ptr + 4 * from * (transB ? B.ld : 1), ld: B.ld },
      c: { ptr: C.ptr + 4 * from * (byRows ? C.ld : 1), ld: C.ld },
      beta,
      packedB,
      bias: byRows || epilogue === GEMM_EPILOGUE.none ? biasPtr : biasPtr + 4 * from,
      epilogue,
    })
  );
  runGemmJobs(chunks, pool);
}

/**
 * The product cut along K at `kSplit` (see kSplitPoint): the first half into C (with beta), the second into the
 * dense m×n partial at byte address `partial`, on two threads when the pool has them, else one after the other;
 * then C += partial and the epilogue on the calling thread.
 */
function runKSplit(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  kSplit: number,
  A: Placed,
  B: Placed,
  C: Placed,
  beta: 0 | 1,
  partial: number,
  biasPtr: number,
  epilogue: number,
): void {
  const half = (from: number, to: number, c: Placed, b: 0 | 1): number[] =>
    gemmJob({
      transA,
      transB,
      rows: m,
      cols: n,
      depth: to - from,
      a: { ptr: A.ptr + 4 * from * (transA ? A.ld : 1), ld: A.ld },
      b: { ptr: B.ptr + 4 * from * (transB ? 1 : B.ld), ld: B.ld },
      c,
      beta: b,
      packedB: 0,
      bias: 0,
      epilogue: GEMM_EPILOGUE.none,
    });
  runGemmJobs([half(0, kSplit, C, beta), half(kSplit, k, { ptr: partial, ld: n }, 0)], workerPool());
  const kernels = activeKernels();
  kernels.gemmAddPartial(C.ptr, C.ld * 4, partial, m, n, biasPtr, epilogue);
}

/** Position of `work` in the gemm export's arguments. */
const SCRATCH_ARG = 12;

/** One call of the gemm export on a block of C; operand pointers are byte addresses of the block's first element. */
interface GemmJob {
  transA: boolean;
  transB: boolean;
  rows: number;
  cols: number;
  depth: number;
  a: Placed;
  b: Placed;
  c: Placed;
  beta: 0 | 1;
  /** Byte address of B packed once for all jobs, or 0 for each job to pack its own. */
  packedB: number;
  bias: number;
  epilogue: number;
}

/** The gemm export's arguments for `job`, in the form the pool sends to its threads. */
function gemmJob(job: GemmJob): number[] {
  return [
    job.transA ? 1 : 0,
    job.transB ? 1 : 0,
    job.rows,
    job.cols,
    job.depth,
    job.a.ptr,
    job.a.ld,
    job.b.ptr,
    job.b.ld,
    job.c.ptr,
    job.c.ld,
    job.beta,
    0, // SCRATCH_ARG: the running thread's scratch
    job.packedB,
    job.bias,
    job.epilogue,
  ];
}

/**
 * Runs gemm jobs across the pool, the calling thread taking its share with its own scratch; without a pool,
 * one after the other here.
 */
function runGemmJobs(jobs: readonly (readonly number[])[], pool: WorkerPool | undefined): void {
  const kernels = activeKernels();
  const own = callerWorkArea();
  const onCaller = (a: readonly number[]) => {
    const args = [...a] as Parameters<typeof kernels.gemm>;
    args[SCRATCH_ARG] = own;
    kernels.gemm(...args);
  };
  if (pool) pool.run("gemm", activeVariant(), jobs, onCaller, SCRATCH_ARG);
  else jobs.forEach(onCaller);
}

/**
 * Guided self-scheduling: cuts [0, length) into ranges of 1/(2·threads) of what is left, at least
 * `minChunk` long, boundaries on multiples of `unit`, at most MAX_CHUNKS ranges.
 */
export function guidedSplit(
  length: number,
  unit: number,
  threads: number,
  minChunk: number,
): [number, number][] {
  const out: [number, number][] = [];
  let from = 0;
  while (from < length) {
    const left = length - from;
    let size = Math.max(minChunk, Math.ceil(left / (2 * threads)));
    size = Math.ceil(size / unit) * unit;
    // No sliver at the end, and never more chunks than the pool's table holds.
    if (left - size < minChunk / 2 || out.length === MAX_CHUNKS - 1) {
      size = left;
    }
    out.push([from, Math.min(length, from + size)]);
    from += size;
  }
  return out;
}

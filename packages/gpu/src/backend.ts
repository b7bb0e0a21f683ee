import {
  type ArgReduceOp,
  type AxisIndexParams,
  type Backend,
  type BinaryOp,
  type Conv2dParams,
  contiguousStrides,
  type DType,
  DTypeError,
  type FusedProgram,
  type Pool2dParams,
  type RandomDistribution,
  type ReduceOp,
  type Storage,
  type StridedView,
  type TypedArray,
  type UnaryOp,
} from "@backprop/tensor";
import { Deferral } from "./deferral.ts";
import { GpuLimitError } from "./errors.ts";
import { binaryKernel } from "./kernels/binary.ts";
import { fusedKernel } from "./kernels/fused.ts";
import {
  convForwardProblem,
  convForwardSizes,
  convInputGradProblem,
  convInputGradSizes,
  convWeightGradProblem,
  convWeightGradSizes,
  writeConvParams,
} from "./kernels/conv2d.ts";
import { copyKernel, fillKernel } from "./kernels/copy.ts";
import { type GemmSizes, runGemm } from "./kernels/gemm_run.ts";
import type { GemmProblem } from "./kernels/gemm.ts";
import { addAtomicKernel, addGatherKernel, gatherKernel, useAtomicAdd } from "./kernels/indexing.ts";
import { matmulProblem } from "./kernels/matmul.ts";
import { avgPoolBackwardKernel, avgPoolKernel, maxPoolBackwardKernel, maxPoolKernel, writePoolParams } from "./kernels/pool2d.ts";
import { randomKernel } from "./kernels/random.ts";
import { argReduceKernel, reduceKernel, SEQUENTIAL_MAX } from "./kernels/reduce.ts";
import { unaryKernel } from "./kernels/unary.ts";
import { whereKernel } from "./kernels/where.ts";
import { ParamWriter } from "./params.ts";
import type { PooledBuffer, PoolStats } from "./pool.ts";
import { type DeviceLimits, ERROR_OPS, GpuRuntime, grid, type KernelSpec } from "./runtime.ts";
import type { GpuStats } from "./stats.ts";
import { GpuStorage, gpuStorage } from "./storage.ts";
import { checkRank, collapse, stridedWords, writeStrided } from "./strided.ts";

/** WebGPU's default maxStorageBuffersPerShaderStage: the views and outputs one fused pipeline may bind. */
const MAX_STORAGE_BINDINGS = 8;
import { float64Error } from "./wgsl_types.ts";

/** `memory()` of the WebGPU backend: live tensors plus what the buffer pool holds. */
export interface GpuMemoryInfo extends PoolStats {
  /** Storages allocated and not released. */
  storages: number;
  /** Bytes of tensor data in those storages. */
  bytes: number;
}

// Rows longer than this, when there are few of them, are reduced in two passes (segments, then partials).
const SEGMENT = 16384;

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** Whether `strides` walk `shape` in row-major order without gaps (size-1 dimensions may have any stride). */
function isRowMajor(shape: readonly number[], strides: readonly number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== expected) return false;
    expected *= shape[i]!;
  }
  return true;
}

/** `strides` with the one of `dim` set to 0 (a view pinned to the start of the indexed dimension). */
function pinned(strides: readonly number[], dim: number): number[] {
  return strides.map((s, d) => (d === dim ? 0 : s));
}

/** How `value` is stored as `dtype` on the GPU, as a u32 bit pattern. */
function constantBits(dtype: DType, value: number): number {
  if (dtype === "float32") {
    f32Scratch[0] = value;
    return u32Scratch[0]!;
  }
  if (dtype === "int32") return (value | 0) >>> 0;
  return value ? 1 : 0;
}

/**
 * The WebGPU implementation of `Backend`. Every kernel runs on the GPU (no CPU fallbacks); each returns a new
 * storage from the buffer pool, and `release` returns its buffer to the pool. float32, int32 and bool are
 * supported (bool stored as u32 0/1); float64 is refused with a `DTypeError`.
 */
export class WebGpuBackend implements Backend {
  readonly name: string = "webgpu";
  readonly supportsFloat64: boolean = false;
  #storages = 0;
  #bytes = 0;

  readonly #runtime: GpuRuntime;
  readonly #deferral: Deferral;
  /**
   * Whether float32/bool elementwise ops and whole copies are deferred and run fused when needed (deferral.ts);
   * `false` runs every op as its own kernel when called.
   */
  deferral = true;

  /**
   * A backend on an open device (`initWebGPU`/`openWebGPU` create it). `poolFreeBytes`: released buffer bytes
   * kept for reuse.
   */
  constructor(device: GPUDevice, limits: DeviceLimits, poolFreeBytes: number) {
    this.#runtime = new GpuRuntime(device, limits, poolFreeBytes);
    this.#deferral = new Deferral({
      newStorage: (dtype, size, op) => this.#newStorage(dtype, size, op),
      run: (spec, buffers, p, threads, perGroup = 256) => {
        const limit = this.#runtime.limits.maxComputeWorkgroupsPerDimension;
        this.#runtime.dispatch(spec, buffers, p, grid(Math.ceil(threads / perGroup), limit));
      },
      freeBuffer: (s) => this.#freeBuffer(s),
      pool: this.#runtime.pool,
      counters: this.#runtime.counters,
      maxBindings: limits.maxStorageBuffersPerShaderStage ?? MAX_STORAGE_BINDINGS,
    });
  }

  /** The WebGPU device. */
  get device(): GPUDevice {
    return this.#runtime.device;
  }

  /** Why the device was lost (`null` while it works). */
  get lost(): { reason: string; message: string } | null {
    return this.#runtime.lost;
  }

  /** Compute pipelines compiled so far (one per kernel variant used). */
  get pipelinesCompiled(): number {
    return this.#runtime.compiledPipelines;
  }

  /** What was recorded on the device since the last `resetStats()`: dispatches (by kernel), copies, submissions, buffers created. */
  stats(): GpuStats {
    return this.#runtime.counters.snapshot();
  }

  /** Starts the `stats()` counters from zero. */
  resetStats(): void {
    this.#runtime.counters.reset();
  }

  // ---- memory ----

  #newStorage(dtype: DType, size: number, op: string): GpuStorage {
    if (dtype === "float64") throw float64Error(`webgpu.${op}`);
    this.#runtime.checkAlive(op);
    const bytes = size * 4;
    const limit = this.#runtime.limits.maxStorageBufferBindingSize;
    if (bytes > limit) {
      throw new GpuLimitError(
        `webgpu.${op}: a ${dtype} tensor of ${size} elements (${bytes} bytes) does not fit in one GPU buffer binding; ` +
          `this adapter's maxStorageBufferBindingSize is ${limit} bytes`,
      );
    }
    const s = new GpuStorage(this, dtype, size, this.#storageHooks);
    this.#storages++;
    this.#bytes += bytes;
    return s;
  }

  readonly #storageHooks = {
    acquire: (bytes: number) => this.#runtime.pool.acquire(bytes),
    writeConstant: (s: GpuStorage, bits: number) => this.#writeConstant(s, bits),
    materialize: (s: GpuStorage) => this.#deferral.materialize(s),
  };

  alloc(dtype: DType, size: number): Storage {
    const s = this.#newStorage(dtype, size, "alloc");
    // Zeroed on first use, and not at all when a copy overwrites all of it first (cast, clone, contiguous).
    s.setConstant(0);
    return s;
  }

  upload(data: TypedArray | readonly number[], dtype: DType): Storage {
    const s = this.#newStorage(dtype, data.length, "upload");
    let words: Float32Array | Int32Array | Uint32Array;
    if (dtype === "float32") words = data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
    else if (dtype === "int32") {
      words = data instanceof Int32Array ? data : new Int32Array(data.length);
      if (words !== data) words.set(data as ArrayLike<number>);
    } else {
      words = new Uint32Array(data.length);
      for (let i = 0; i < data.length; i++) words[i] = data[i] ? 1 : 0;
    }
    this.#runtime.write(s.buf, words);
    return s;
  }

  async read(storage: Storage): Promise<TypedArray> {
    const s = gpuStorage(storage);
    const bytes = await this.#runtime.read(s.buf, s.bytes);
    switch (s.dtype) {
      case "float32":
        return new Float32Array(bytes);
      case "int32":
        return new Int32Array(bytes);
      default:
        return Uint8Array.from(new Uint32Array(bytes));
    }
  }

  release(storage: Storage): void {
    const s = gpuStorage(storage);
    if (s.released) return;
    s.released = true;
    this.#storages--;
    this.#bytes -= s.bytes;
    this.#deferral.release(s);
    // A buffer that pending expressions still read goes back to the pool when the last of them is done.
    if (!s.dependents?.size) this.#freeBuffer(s);
  }

  #freeBuffer(s: GpuStorage): void {
    const b = s.takeBuffer();
    if (b) this.#runtime.pool.release(b);
  }

  memory(): GpuMemoryInfo {
    return { storages: this.#storages, bytes: this.#bytes, ...this.#runtime.pool.stats() };
  }

  /**
   * Submits the recorded work (kernels are recorded and submitted in batches; reads submit on their own).
   * Deferred elementwise work is not recorded until something needs its result.
   */
  flush(): void {
    this.#runtime.flush();
  }

  /** Resolves when the GPU has finished all work recorded so far (for timing). */
  sync(): Promise<void> {
    return this.#runtime.sync();
  }

  /** Storages whose deferred contents have not been computed yet. */
  get pendingStorages(): number {
    return this.#deferral.pendingCount;
  }

  /**
   * Destroys the device and all its memory; arrays on it become unusable and every later call throws
   * `GpuDeviceLostError` (a new `initWebGPU()` opens a fresh device).
   */
  destroy(): void {
    this.#runtime.destroy();
  }

  /** Destroys the pool's free buffers (memory in use is untouched). */
  trimPool(): void {
    this.#runtime.pool.trim();
  }

  // ---- helpers ----

  #run(spec: KernelSpec, buffers: readonly GpuStorage[], p: ParamWriter, threads: number, perGroup = 256): void {
    const limit = this.#runtime.limits.maxComputeWorkgroupsPerDimension;
    this.#runtime.dispatch(spec, buffers.map((b) => b.buf), p, grid(Math.ceil(threads / perGroup), limit));
  }

  // ---- elementwise ----

  full(dtype: DType, size: number, value: number): Storage {
    const s = this.#newStorage(dtype, size, "full");
    s.setConstant(constantBits(dtype, value));
    return s;
  }

  /** Writes a pending `full` constant into its buffer (called on the buffer's first use). */
  #writeConstant(s: GpuStorage, bits: number): void {
    if (bits === 0) this.#runtime.clear(s.raw, s.bytes);
    else {
      const limit = this.#runtime.limits.maxComputeWorkgroupsPerDimension;
      this.#runtime.dispatch(fillKernel, [s.raw], new ParamWriter().u32(s.size).u32(bits), grid(Math.ceil(s.size / 256), limit));
    }
  }

  copy(src: StridedView, dst: StridedView): void {
    const n = src.shape.reduce((a, b) => a * b, 1);
    if (n === 0) return;
    src = this.#deferral.viewOf(src);
    const from = gpuStorage(src.storage), to = gpuStorage(dst.storage);
    const whole = n === to.size && dst.offset === 0 && isRowMajor(dst.shape, dst.strides);
    if (whole && this.deferral && this.#deferral.copyWhole(src, to)) return;
    // Deferred expressions reading `to` need its contents before this write.
    this.#deferral.materializeDependents(to);
    // A whole overwrite makes `to`'s own deferred contents irrelevant, unless it copies from itself.
    if (whole && to.pending && from !== to) this.#deferral.discard(to);
    if (whole && from.constantBits !== null && from.dtype === to.dtype) {
      to.setConstant(from.constantBits);
      return;
    }
    // A copy over the whole destination makes its pending constant irrelevant.
    if (whole) to.clearConstant();
    let source = src;
    let temp: GpuStorage | null = null;
    // A buffer cannot be bound for reading and writing in one dispatch: copy the source out first.
    if (from === to) {
      temp = gpuStorage(this.#copyOf(src));
      source = { storage: temp, shape: src.shape, strides: contiguousStrides(src.shape), offset: 0 };
    }
    const c = collapse(src.shape, [source, dst]);
    checkRank("copy", c.shape.length, 2);
    const p = new ParamWriter();
    writeStrided(p, c.shape, c.strides, [source.offset, dst.offset]);
    const spec = copyKernel(source.storage.dtype, dst.storage.dtype, c.shape.length);
    this.#run(spec, [gpuStorage(source.storage), to], p, n);
    if (temp) this.release(temp);
  }

  #copyOf(v: StridedView): Storage {
    const n = v.shape.reduce((a, b) => a * b, 1);
    const out = this.#newStorage(v.storage.dtype, n, "copy");
    this.copy(v, { storage: out, shape: v.shape, strides: contiguousStrides(v.shape), offset: 0 });
    return out;
  }

  unary(op: UnaryOp, x: StridedView, outDtype: DType, param?: number): Storage {
    const deferred = this.deferral ? this.#deferral.unary(op, x, outDtype, param) : undefined;
    if (deferred) return deferred;
    x = this.#deferral.viewOf(x);
    const n = x.shape.reduce((a, b) => a * b, 1);
    const out = this.#newStorage(outDtype, n, op);
    if (n === 0) return out;
    const c = collapse(x.shape, [x]);
    checkRank(op, c.shape.length, 1, 1);
    const p = new ParamWriter();
    writeStrided(p, c.shape, c.strides, [x.offset]);
    p.f32(param ?? 1);
    this.#run(unaryKernel(op, x.storage.dtype, outDtype, c.shape.length), [gpuStorage(x.storage), out], p, n);
    return out;
  }

  /**
   * A fused elementwise program as one WGSL pipeline (float32). Declines, so the caller runs op by op, where the
   * strided parameters and scalars exceed the parameter block or the views and outputs the storage bindings.
   */
  fused(program: FusedProgram, inputs: readonly StridedView[], shape: readonly number[], params: readonly number[]): Storage[] | undefined {
    if (this.deferral) return this.#deferral.fused(program, inputs, shape, params);
    if (program.dtype !== "float32" || inputs.some((v) => v.storage.dtype !== "float32")) return undefined;
    if (inputs.length + program.outputs.length > MAX_STORAGE_BINDINGS) return undefined;
    const c = collapse(shape, inputs);
    if (stridedWords(c.shape.length, inputs.length) + params.length > 63) return undefined;
    const n = shape.reduce((a, b) => a * b, 1);
    const outs = program.outputs.map(() => this.#newStorage("float32", n, "fused"));
    if (n === 0) return outs;
    const p = new ParamWriter();
    writeStrided(p, c.shape, c.strides, inputs.map((v) => v.offset));
    for (const v of params) p.f32(v);
    const kernel = fusedKernel(program, c.shape.length, inputs.length, params.length);
    this.#run(kernel, [...inputs.map((v) => gpuStorage(v.storage)), ...outs], p, n);
    return outs;
  }

  binary(op: BinaryOp, a: StridedView, b: StridedView, outShape: readonly number[], outDtype: DType): Storage {
    const deferred = this.deferral ? this.#deferral.binary(op, a, b, outShape, outDtype) ?? this.#deferral.foldInt32(op, a, b, outShape, outDtype) : undefined;
    if (deferred) return deferred;
    return this.#elementwise(op, [a, b], outShape, outDtype, (constant, rank) =>
      binaryKernel(op, a.storage.dtype, b.storage.dtype, outDtype, rank, constant[0]!, constant[1]!));
  }

  where(cond: StridedView, a: StridedView, b: StridedView, outShape: readonly number[], outDtype: DType): Storage {
    const deferred = this.deferral ? this.#deferral.where(cond, a, b, outShape, outDtype) : undefined;
    if (deferred) return deferred;
    return this.#elementwise("where", [cond, a, b], outShape, outDtype, (constant, rank) =>
      whereKernel(cond.storage.dtype, a.storage.dtype, b.storage.dtype, outDtype, rank, [constant[0]!, constant[1]!, constant[2]!]));
  }

  /**
   * Runs an elementwise kernel over operands broadcast to `outShape`. Operands that are pending constants (the
   * 0-d arrays JS numbers become) go into the parameter block; the rest are strided views bound as buffers.
   */
  #elementwise(
    op: string,
    operands: readonly StridedView[],
    outShape: readonly number[],
    outDtype: DType,
    kernel: (constant: boolean[], rank: number) => KernelSpec,
  ): Storage {
    const n = outShape.reduce((x, y) => x * y, 1);
    const out = this.#newStorage(outDtype, n, op);
    if (n === 0) return out;
    operands = operands.map((v) => this.#deferral.viewOf(v));
    const bits: (number | null)[] = operands.map((v) => gpuStorage(v.storage).constantBits);
    // With every operand constant one of them is written, so the kernel has a buffer to size the launch.
    if (!bits.includes(null)) bits[0] = null;
    const constant = bits.map((c) => c !== null);
    const views = operands.filter((_, k) => !constant[k]);
    const c = collapse(outShape, views);
    checkRank(op, c.shape.length, views.length, operands.length);
    const p = new ParamWriter();
    writeStrided(p, c.shape, c.strides, views.map((v) => v.offset));
    for (const b of bits) if (b !== null) p.u32(b);
    this.#run(kernel(constant, c.shape.length), [...views.map((v) => gpuStorage(v.storage)), out], p, n);
    return out;
  }

  // ---- reductions ----

  reduce(op: ReduceOp, x: StridedView, outer: number, reduceSize: number): Storage {
    const dtype = x.storage.dtype;
    // The tensor ops cast bool rows to int32 before reducing.
    if (dtype === "bool") throw new DTypeError(`webgpu.reduce: ${op} needs float32 or int32 rows, got bool`);
    const out = this.#newStorage(dtype, outer, op);
    if (outer === 0) return out;
    if (reduceSize === 0) {
      // Empty rows: the identity (only sum and prod reach here; the tensor ops refuse max/min).
      this.#fillWith(out, op === "prod" ? 1 : 0);
      return out;
    }
    const segs = outer < 64 && reduceSize > 4 * SEGMENT ? Math.ceil(reduceSize / SEGMENT) : 1;
    // A deferred input is evaluated inside the reduction.
    const fused = segs === 1 && dtype === "float32" ? this.#deferral.reduce(op, x, outer, reduceSize, this.deferral) : undefined;
    if (fused) {
      this.release(out);
      return fused;
    }
    const v = this.#deferral.viewOf(x);
    if (segs === 1) {
      this.#reducePass(op, dtype, v, out, outer, reduceSize, reduceSize, 1);
      return out;
    }
    const partial = this.#newStorage(dtype, outer * segs, op);
    this.#reducePass(op, dtype, v, partial, outer, reduceSize, SEGMENT, segs);
    const partials = { storage: partial, shape: [outer * segs], strides: [1], offset: 0 };
    this.#reducePass(op, dtype, partials, out, outer, segs, segs, 1);
    this.release(partial);
    return out;
  }

  #fillWith(s: GpuStorage, value: number): void {
    s.setConstant(constantBits(s.dtype, value));
  }

  /** The strided block of view `x` (collapsed), for a kernel that reads it in place; returns the rank. */
  #viewParams(op: string, x: StridedView, p: ParamWriter, extraWords: number): number {
    const c = collapse(x.shape, [x]);
    checkRank(op, c.shape.length, 1, extraWords);
    writeStrided(p, c.shape, c.strides, [x.offset]);
    return c.shape.length;
  }

  #reducePass(
    op: ReduceOp,
    dtype: DType,
    x: StridedView,
    out: GpuStorage,
    outer: number,
    size: number,
    segLen: number,
    segs: number,
  ): void {
    const sequential = segLen <= SEQUENTIAL_MAX;
    const p = new ParamWriter();
    const rank = this.#viewParams(op, x, p, 4);
    p.u32s([outer, size, segLen, segs]);
    const spec = reduceKernel(op, dtype, sequential, rank);
    this.#run(spec, [gpuStorage(x.storage), out], p, outer * segs, sequential ? 64 : 1);
  }

  argReduce(op: ArgReduceOp, x: StridedView, outer: number, reduceSize: number): Storage {
    const out = this.#newStorage("int32", outer, op);
    if (outer === 0) return out;
    // Bools are read as their stored u32 0/1, which compare as the values do.
    const v = this.#deferral.viewOf(x);
    const sequential = reduceSize <= SEQUENTIAL_MAX;
    const p = new ParamWriter();
    const rank = this.#viewParams(op, v, p, 2);
    p.u32s([outer, reduceSize]);
    this.#run(argReduceKernel(op, v.storage.dtype, sequential, rank), [gpuStorage(v.storage), out], p, outer, sequential ? 64 : 1);
    return out;
  }

  // ---- matmul and convolution ----

  matmul(a: StridedView, b: StridedView, outDtype: DType): Storage {
    const [batch, m, k] = a.shape as [number, number, number];
    const n = b.shape[2]!;
    if (outDtype === "bool") throw new DTypeError("webgpu.matmul: bool arrays are not supported");
    const out = this.#newStorage(outDtype, batch * m * n, "matmul");
    if (batch * m * n === 0) return out;
    if (k === 0) {
      this.#runtime.clear(out.buf, out.bytes);
      return out;
    }
    let A = this.#deferral.viewOf(a), B = this.#deferral.viewOf(b);
    const owned: Storage[] = [];
    if (A.storage.dtype !== outDtype) owned.push((A = this.#castView(A, outDtype)).storage);
    if (B.storage.dtype !== outDtype) owned.push((B = this.#castView(B, outDtype)).storage);
    const [sab, sam, sak] = A.strides as [number, number, number];
    const [sbb, sbk, sbn] = B.strides as [number, number, number];
    // Size-1 dimensions may carry any stride; give them 0 so the layout tests below see the real layout.
    const aM = m === 1 ? 0 : sam, aK = k === 1 ? 0 : sak, bK = k === 1 ? 0 : sbk, bN = n === 1 ? 0 : sbn;
    const aMFast = aM === 1 && aK !== 1;
    const bNFast = !(bK === 1 && bN !== 1);
    this.#gemm(
      matmulProblem(outDtype, aMFast, bNFast),
      { batch, m, n, k, outSize: batch * m * n },
      [gpuStorage(A.storage).buf, gpuStorage(B.storage).buf],
      out,
      (p) => p.u32s([A.offset, batch === 1 ? 0 : sab, aM, aK, B.offset, batch === 1 ? 0 : sbb, bK, bN]),
    );
    for (const s of owned) this.release(s);
    return out;
  }

  /**
   * A GEMM into `out`; with deferral, a float32 split-K product leaves its partial products in a workspace and
   * `out` pending as their sum, added by whatever reads `out` (no pass of its own when the reader is deferred).
   */
  #gemm(problem: GemmProblem, sizes: GemmSizes, inputs: readonly PooledBuffer[], out: GpuStorage, params: (p: ParamWriter) => void): void {
    let workspace: GpuStorage | undefined;
    const splits = runGemm(this.#runtime, problem, sizes, inputs, {
      out: () => out.buf,
      workspace: (splits) => {
        if (!this.deferral || out.dtype !== "float32") return undefined;
        workspace = this.#newStorage("float32", splits * sizes.outSize, "gemm");
        return workspace.buf;
      },
    }, params);
    if (workspace) {
      this.#deferral.splitSum(out, workspace, splits, sizes.outSize);
      this.release(workspace);
    }
  }

  #castView(v: StridedView, dtype: DType): StridedView {
    const n = v.shape.reduce((a, b) => a * b, 1);
    const out = this.#newStorage(dtype, n, "cast");
    this.copy(v, { storage: out, shape: v.shape, strides: contiguousStrides(v.shape), offset: 0 });
    return { storage: out, shape: v.shape, strides: contiguousStrides(v.shape), offset: 0 };
  }

  #checkFloat(op: string, ...xs: Storage[]): void {
    for (const x of xs) {
      if (x.dtype !== "float32") {
        if (x.dtype === "float64") throw float64Error(`webgpu.${op}`);
        throw new DTypeError(`webgpu.${op}: needs float32 data, got ${x.dtype}`);
      }
    }
  }

  conv2d(x: Storage, weight: Storage, p: Conv2dParams): Storage {
    this.#checkFloat("conv2d", x, weight);
    const out = this.#newStorage("float32", p.n * p.outC * p.oh * p.ow, "conv2d");
    this.#gemm(convForwardProblem, convForwardSizes(p), [gpuStorage(x).buf, gpuStorage(weight).buf], out, (w) =>
      writeConvParams(w, p));
    return out;
  }

  conv2dBackwardInput(gradOut: Storage, weight: Storage, p: Conv2dParams): Storage {
    this.#checkFloat("conv2dBackwardInput", gradOut, weight);
    const dx = this.#newStorage("float32", p.n * p.c * p.h * p.w, "conv2dBackwardInput");
    this.#gemm(convInputGradProblem, convInputGradSizes(p), [gpuStorage(gradOut).buf, gpuStorage(weight).buf], dx, (w) =>
      writeConvParams(w, p));
    return dx;
  }

  conv2dBackwardWeight(x: Storage, gradOut: Storage, p: Conv2dParams): Storage {
    this.#checkFloat("conv2dBackwardWeight", x, gradOut);
    const dw = this.#newStorage("float32", p.outC * (p.c / p.groups) * p.kh * p.kw, "conv2dBackwardWeight");
    this.#gemm(convWeightGradProblem, convWeightGradSizes(p), [gpuStorage(x).buf, gpuStorage(gradOut).buf], dw, (w) =>
      writeConvParams(w, p));
    return dw;
  }

  maxPool2d(x: Storage, p: Pool2dParams): { out: Storage; indices: Storage } {
    this.#checkFloat("maxPool2d", x);
    const total = p.n * p.c * p.oh * p.ow;
    const out = this.#newStorage("float32", total, "maxPool2d");
    const indices = this.#newStorage("int32", total, "maxPool2d");
    const w = new ParamWriter();
    writePoolParams(w, total, p);
    this.#run(maxPoolKernel, [gpuStorage(x), out, indices], w, total);
    return { out, indices };
  }

  maxPool2dBackward(gradOut: Storage, indices: Storage, p: Pool2dParams): Storage {
    this.#checkFloat("maxPool2dBackward", gradOut);
    const total = p.n * p.c * p.h * p.w;
    const dx = this.#newStorage("float32", total, "maxPool2dBackward");
    const w = new ParamWriter();
    writePoolParams(w, total, p);
    this.#run(maxPoolBackwardKernel, [gpuStorage(gradOut), gpuStorage(indices), dx], w, total);
    return dx;
  }

  avgPool2d(x: Storage, p: Pool2dParams): Storage {
    this.#checkFloat("avgPool2d", x);
    const total = p.n * p.c * p.oh * p.ow;
    const out = this.#newStorage("float32", total, "avgPool2d");
    const w = new ParamWriter();
    writePoolParams(w, total, p);
    this.#run(avgPoolKernel, [gpuStorage(x), out], w, total);
    return out;
  }

  avgPool2dBackward(gradOut: Storage, p: Pool2dParams): Storage {
    this.#checkFloat("avgPool2dBackward", gradOut);
    const total = p.n * p.c * p.h * p.w;
    const dx = this.#newStorage("float32", total, "avgPool2dBackward");
    const w = new ParamWriter();
    writePoolParams(w, total, p);
    this.#run(avgPoolBackwardKernel, [gpuStorage(gradOut), dx], w, total);
    return dx;
  }

  // ---- indexing ----

  #checkIndex(op: string, index: StridedView): void {
    const dtype = index.storage.dtype;
    if (dtype !== "int32") throw new DTypeError(`webgpu.${op}: the index must be int32, got ${dtype}`);
  }

  /**
   * Collapses `shape` with `views`, writes their strided block and then `words`, and returns the rank (the
   * error operation, ERROR_OPS' place of `p.name`, is the last word).
   */
  #indexParams(op: string, shape: readonly number[], views: readonly StridedView[], words: readonly number[], w: ParamWriter): number {
    const c = collapse(shape, views);
    checkRank(op, c.shape.length, views.length, words.length);
    writeStrided(w, c.shape, c.strides, views.map((v) => v.offset));
    w.u32s(words);
    return c.shape.length;
  }

  #dispatchIndexing(spec: KernelSpec, inputs: readonly StridedView[], out: GpuStorage, p: ParamWriter, threads: number): void {
    const limit = this.#runtime.limits.maxComputeWorkgroupsPerDimension;
    const bufs = [...inputs.map((v) => gpuStorage(v.storage).buf), out.buf, this.#runtime.errorBuffer];
    this.#runtime.dispatch(spec, bufs, p, grid(Math.ceil(threads / 256), limit));
  }

  gather(x: StridedView, index: StridedView, p: AxisIndexParams): Storage {
    this.#checkIndex("gather", index);
    const n = index.shape.reduce((a, b) => a * b, 1);
    const out = this.#newStorage(x.storage.dtype, n, "gather");
    if (n === 0) return out;
    x = this.#deferral.viewOf(x);
    index = this.#deferral.viewOf(index);
    const xPinned = { ...x, strides: pinned(x.strides, p.dim) };
    const w = new ParamWriter();
    const words = [p.axisSize, x.strides[p.dim]!, ERROR_OPS.indexOf(p.name ?? "gather")];
    const rank = this.#indexParams("gather", index.shape, [index, xPinned], words, w);
    this.#dispatchIndexing(gatherKernel(x.storage.dtype, rank), [x, index], out, w, n);
    return out;
  }

  scatterAdd(src: StridedView, index: StridedView, p: AxisIndexParams): Storage {
    this.#checkIndex("scatterAdd", index);
    const dtype = src.storage.dtype;
    const outShape = index.shape.map((s, d) => (d === p.dim ? p.axisSize : s));
    const n = outShape.reduce((a, b) => a * b, 1);
    const out = this.#newStorage(dtype, n, "scatterAdd");
    if (n === 0) return out;
    const indexSize = index.shape[p.dim]!;
    if (indexSize === 0) {
      this.#fillWith(out, 0);
      return out;
    }
    src = this.#deferral.viewOf(src);
    index = this.#deferral.viewOf(index);
    const errorOp = ERROR_OPS.indexOf(p.name ?? "scatterAdd");
    const w = new ParamWriter();
    if (useAtomicAdd(p.axisSize, indexSize)) {
      const outStrides = contiguousStrides(outShape);
      const outPinned = { storage: out, shape: index.shape, strides: pinned(outStrides, p.dim), offset: 0 };
      const words = [p.axisSize, outStrides[p.dim]!, errorOp];
      const rank = this.#indexParams("scatterAdd", index.shape, [index, src, outPinned], words, w);
      this.#runtime.clear(out.buf, out.bytes);
      this.#dispatchIndexing(addAtomicKernel(dtype, rank), [src, index], out, w, index.shape.reduce((a, b) => a * b, 1));
    } else {
      const views = [index, src].map((v) => ({ ...v, shape: outShape, strides: pinned(v.strides, p.dim) }));
      const outInner = outShape.slice(p.dim + 1).reduce((a, b) => a * b, 1);
      const words = [p.axisSize, indexSize, outInner, index.strides[p.dim]!, src.strides[p.dim]!, errorOp];
      const rank = this.#indexParams("scatterAdd", outShape, views, words, w);
      this.#dispatchIndexing(addGatherKernel(dtype, rank), [src, index], out, w, n);
    }
    return out;
  }

  // ---- random ----

  random(dist: RandomDistribution, dtype: DType, size: number, key: readonly [number, number], counter: number): Storage {
    if (dtype === "float64") throw float64Error("webgpu.random");
    if (dtype !== "float32") throw new DTypeError(`webgpu.random: needs a float dtype, got ${dtype}`);
    const out = this.#newStorage(dtype, size, "random");
    const p = new ParamWriter()
      .u32(size)
      .u32(key[0] >>> 0)
      .u32(key[1] >>> 0)
      .u32(counter >>> 0)
      .u32(Math.floor(counter / 0x100000000) >>> 0)
      .u32(dist === "uniform" ? 0 : 1);
    this.#run(randomKernel, [out], p, Math.ceil(size / 4), 64);
    return out;
  }
}


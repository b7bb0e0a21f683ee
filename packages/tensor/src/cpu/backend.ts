import type { Backend, FusedProgram, Storage, StridedView } from "../backend.ts";
import { binaryFusedWasm, fusedWasm, unaryFusedWasm } from "./fused_wasm.ts";
import { allocTyped, type DType, isFloat, type TypedArray } from "../dtype.ts";
import { DTypeError } from "../errors.ts";
import { normalFromWords, philoxWords, uniformFromWords, wordsFor } from "../random.ts";
import { conv2dForward, conv2dInputGrad, conv2dWeightGrad } from "./conv2d.ts";
import { binaryInto, copyStrided, unaryInto, whereInto } from "./elementwise.ts";
import { type Gemm, gemmPlain, matmulInto } from "./gemm.ts";
import { gatherInto, scatterAddInto } from "./indexing.ts";
import { avgPoolBackward, avgPoolForward, maxPoolBackward, maxPoolForward } from "./pool2d.ts";
import { argReduceStrided, reduceStrided } from "./reduce.ts";
import { CpuStorage, dataOf } from "./storage.ts";
import { isDense } from "./strided.ts";
import { gemm as wasmGemm, wasmFeatures } from "./wasm/mod.ts";
import { adoptBlock, allocInKernelMemory, releaseBlock } from "./kernel_memory.ts";
import { binaryWasm, copyWasm, unaryWasm } from "./elementwise_wasm.ts";
import { sumRowsWasm } from "./reduce_wasm.ts";
import { maxPool2dWasm } from "./pool2d_wasm.ts";
import { conv2dForwardWasm, conv2dInputGradWasm, conv2dWeightGradWasm } from "./conv2d_wasm.ts";

type Floats = Float32Array | Float64Array;

function floats(s: Storage): Floats {
  if (!isFloat(s.dtype)) throw new DTypeError(`cpu: kernel needs float32/float64 data, got ${s.dtype}`);
  return dataOf(s) as Floats;
}

/** float32 GEMM through the WebAssembly SIMD kernels (packed, register-tiled, split over the worker pool). */
const gemmWasm: Gemm = (transA, transB, m, n, k, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc, accumulate, epilogue) =>
  wasmGemm(
    transA, transB, m, n, k,
    a as Float32Array, aOffset, lda, b as Float32Array, bOffset, ldb, c as Float32Array, cOffset, ldc,
    accumulate ? 1 : 0,
    epilogue && { bias: epilogue.bias as Float32Array, offset: epilogue.offset, relu: epilogue.relu },
  );

function defaultFloat32Gemm(): Gemm {
  try {
    return wasmFeatures().simd ? gemmWasm : gemmPlain;
  } catch {
    return gemmPlain;
  }
}

/**
 * The CPU backend: typed arrays. Where the engine has WebAssembly SIMD and shared memory, float32 storages
 * live in the kernels' memory and the float32 kernels (matrix products, convolutions, the common elementwise
 * ops, sums, copies) run there in place; float64, int32, bool and every other case run as TypeScript loops.
 */
export class CpuBackend implements Backend {
  readonly name = "cpu";
  readonly supportsFloat64 = true;
  #storages = 0;
  #bytes = 0;
  /** The float32 GEMM: the Wasm SIMD kernel where the engine has SIMD, else plain loops. */
  readonly #gemmFloat32: Gemm = defaultFloat32Gemm();

  /** Wraps a typed array as a storage and counts it. */
  private wrap(dtype: DType, data: TypedArray, ptr = 0): CpuStorage {
    const s = new CpuStorage(this, dtype, data, ptr);
    if (ptr) adoptBlock(s, ptr);
    this.#storages++;
    this.#bytes += s.bytes;
    return s;
  }

  /**
   * A new storage of `size` elements, zeroed only when `zero` (kernels that write every element skip it).
   * float32, int32 and bool go into kernel memory where they can; its blocks are recycled, so a training loop that
   * allocates the same sizes every step stops allocating after its first step.
   */
  private make(dtype: DType, size: number, zero: boolean): CpuStorage {
    if (dtype !== "float64") {
      const type = dtype === "float32" ? Float32Array : dtype === "int32" ? Int32Array : Uint8Array;
      const block = allocInKernelMemory<Float32Array | Int32Array | Uint8Array>(type, size);
      if (block) {
        if (zero) block.data.fill(0);
        return this.wrap(dtype, block.data, block.ptr);
      }
    }
    return this.wrap(dtype, allocTyped(dtype, size));
  }

  /** The batched WebAssembly convolutions run when float32 products use the Wasm GEMM; else per image. */
  private wasmConv(): boolean {
    return this.#gemmFloat32 === gemmWasm;
  }

  /** float32 products use the Wasm GEMM where there is one; float64 and int32 the plain one. */
  private gemmFor(dtype: DType): Gemm {
    return dtype === "float32" ? this.#gemmFloat32 : gemmPlain;
  }

  alloc(dtype: DType, size: number): Storage {
    const s = this.make(dtype, size, false);
    // Recycled kernel memory is cleared when first read, unless a copy overwrites all of it first.
    if (s.ptr) s.zeroPending = true;
    return s;
  }

  upload(data: TypedArray | readonly number[], dtype: DType): Storage {
    const s = this.make(dtype, data.length, false);
    const out = s.data;
    if (dtype === "bool") for (let i = 0; i < data.length; i++) out[i] = data[i] ? 1 : 0;
    else out.set(data as ArrayLike<number>);
    return s;
  }

  read(storage: Storage): Promise<TypedArray> {
    return Promise.resolve(this.readSync(storage));
  }

  readSync(storage: Storage): TypedArray {
    return dataOf(storage).slice();
  }

  release(storage: Storage): void {
    const s = storage as CpuStorage;
    if (s.released) return;
    s.released = true;
    this.#storages--;
    this.#bytes -= s.bytes;
    if (s.ptr) releaseBlock(s.ptr, s);
  }

  memory(): { storages: number; bytes: number } {
    return { storages: this.#storages, bytes: this.#bytes };
  }

  full(dtype: DType, size: number, value: number): Storage {
    // Fresh memory is +0: −0 (which === 0) still has to be written, and NaN fills a bool array with 1.
    const zero = Object.is(value, 0);
    const s = this.make(dtype, size, zero);
    if (!zero) s.data.fill(dtype === "bool" ? (value !== 0 ? 1 : 0) : value);
    return s;
  }

  copy(src: StridedView, dst: StridedView): void {
    const d = dst.storage as CpuStorage;
    // A copy over every element makes the pending zeroing of recycled memory unnecessary.
    if (dst.offset === 0 && src.shape.reduce((a, b) => a * b, 1) === d.size && isDense(dst)) d.zeroPending = false;
    // The Wasm kernel where it handles the layout and dtypes, else the TypeScript loop.
    if (!copyWasm(src, dst)) copyStrided(src, dst);
  }

  unary(op: Parameters<Backend["unary"]>[0], x: StridedView, outDtype: DType, param?: number): Storage {
    const out = this.make(outDtype, x.shape.reduce((a, b) => a * b, 1), false);
    if (!unaryWasm(op, x, out) && !unaryFusedWasm(op, param, x, out)) unaryInto(op, param, x, out.data);
    return out;
  }

  binary(op: Parameters<Backend["binary"]>[0], a: StridedView, b: StridedView, shape: readonly number[], outDtype: DType): Storage {
    const out = this.make(outDtype, shape.reduce((x, y) => x * y, 1), false);
    if (!binaryWasm(op, a, b, shape, out) && !binaryFusedWasm(op, a, b, shape, out)) binaryInto(op, a, b, shape, out.data);
    return out;
  }

  fused(program: FusedProgram, inputs: readonly StridedView[], shape: readonly number[], params: readonly number[]): Storage[] | undefined {
    // Only float32 storages live in kernel memory; float64 programs run op by op.
    if (program.dtype !== "float32") return undefined;
    const size = shape.reduce((x, y) => x * y, 1);
    const outs = program.outputs.map(() => this.make(program.dtype, size, false));
    if (fusedWasm(program, inputs, shape, params, outs)) return outs;
    for (const o of outs) this.release(o);
    return undefined;
  }

  where(cond: StridedView, a: StridedView, b: StridedView, shape: readonly number[], outDtype: DType): Storage {
    const out = this.make(outDtype, shape.reduce((x, y) => x * y, 1), false);
    whereInto(cond, a, b, shape, out.data);
    return out;
  }

  reduce(op: Parameters<Backend["reduce"]>[0], x: StridedView, outer: number, reduceSize: number): Storage {
    const out = this.make(x.storage.dtype, outer, false);
    if (!(op === "sum" && sumRowsWasm(x, outer, reduceSize, out.data as Float32Array))) {
      reduceStrided(op, x, dataOf(x.storage), outer, reduceSize, out.data);
    }
    return out;
  }

  argReduce(op: Parameters<Backend["argReduce"]>[0], x: StridedView, outer: number, reduceSize: number): Storage {
    const out = new Int32Array(outer);
    argReduceStrided(op, x, dataOf(x.storage), outer, reduceSize, out);
    return this.wrap("int32", out);
  }

  matmul(a: StridedView, b: StridedView, outDtype: DType): Storage {
    const [batch, m] = a.shape as [number, number];
    const out = this.make(outDtype, batch * m * b.shape[2]!, false);
    matmulInto(a, b, out.data, this.gemmFor(outDtype));
    return out;
  }

  matmulBias(a: StridedView, b: StridedView, bias: StridedView, relu: boolean, outDtype: DType): Storage {
    if (!isFloat(outDtype)) throw new DTypeError(`cpu.matmulBias: needs a float dtype, got ${outDtype}`);
    const [batch, m] = a.shape as [number, number];
    const out = this.make(outDtype, batch * m * b.shape[2]!, false);
    matmulInto(a, b, out.data, this.gemmFor(outDtype), { view: bias, relu });
    return out;
  }

  conv2d(x: Storage, weight: Storage, p: Parameters<Backend["conv2d"]>[2]): Storage {
    const out = this.make(x.dtype, p.n * p.outC * p.oh * p.ow, false);
    if (!(this.wasmConv() && conv2dForwardWasm(x, weight, p, out))) {
      conv2dForward(floats(x), floats(weight), p, out.data as Floats, this.gemmFor(x.dtype));
    }
    return out;
  }

  conv2dBackwardInput(gradOut: Storage, weight: Storage, p: Parameters<Backend["conv2d"]>[2]): Storage {
    const dx = this.make(gradOut.dtype, p.n * p.c * p.h * p.w, false);
    if (!(this.wasmConv() && conv2dInputGradWasm(gradOut, weight, p, dx))) {
      dx.data.fill(0);
      conv2dInputGrad(floats(gradOut), floats(weight), p, dx.data as Floats, this.gemmFor(gradOut.dtype));
    }
    return dx;
  }

  conv2dBackwardWeight(x: Storage, gradOut: Storage, p: Parameters<Backend["conv2d"]>[2]): Storage {
    const dw = this.make(x.dtype, p.outC * (p.c / p.groups) * p.kh * p.kw, false);
    if (!(this.wasmConv() && conv2dWeightGradWasm(x, gradOut, p, dw))) {
      dw.data.fill(0);
      conv2dWeightGrad(floats(x), floats(gradOut), p, dw.data as Floats, this.gemmFor(x.dtype));
    }
    return dw;
  }

  maxPool2d(x: Storage, p: Parameters<Backend["maxPool2d"]>[1]): { out: Storage; indices: Storage } {
    const size = p.n * p.c * p.oh * p.ow;
    const out = this.make(x.dtype, size, false), indices = this.make("int32", size, false);
    if (!maxPool2dWasm(x, p, out, indices)) {
      maxPoolForward(floats(x), p, out.data as Floats, indices.data as Int32Array);
    }
    return { out, indices };
  }

  maxPool2dBackward(gradOut: Storage, indices: Storage, p: Parameters<Backend["maxPool2d"]>[1]): Storage {
    const dx = this.make(gradOut.dtype, p.n * p.c * p.h * p.w, true);
    maxPoolBackward(floats(gradOut), dataOf(indices) as Int32Array, p, dx.data as Floats);
    return dx;
  }

  avgPool2d(x: Storage, p: Parameters<Backend["avgPool2d"]>[1]): Storage {
    const out = this.make(x.dtype, p.n * p.c * p.oh * p.ow, false);
    avgPoolForward(floats(x), p, out.data as Floats);
    return out;
  }

  avgPool2dBackward(gradOut: Storage, p: Parameters<Backend["avgPool2d"]>[1]): Storage {
    const dx = this.make(gradOut.dtype, p.n * p.c * p.h * p.w, true);
    avgPoolBackward(floats(gradOut), p, dx.data as Floats);
    return dx;
  }

  gather(x: StridedView, index: StridedView, p: Parameters<Backend["gather"]>[2]): Storage {
    const out = this.make(x.storage.dtype, index.shape.reduce((a, b) => a * b, 1), false);
    gatherInto(x, dataOf(x.storage), index, dataOf(index.storage) as Int32Array, p, out.data);
    return out;
  }

  scatterAdd(src: StridedView, index: StridedView, p: Parameters<Backend["gather"]>[2]): Storage {
    const size = index.shape.reduce((a, b, d) => a * (d === p.dim ? p.axisSize : b), 1);
    const out = this.make(src.storage.dtype, size, true);
    scatterAddInto(src, dataOf(src.storage), index, dataOf(index.storage) as Int32Array, p, out.data);
    return out;
  }

  random(
    dist: Parameters<Backend["random"]>[0],
    dtype: DType,
    size: number,
    key: readonly [number, number],
    counter: number,
  ): Storage {
    if (dtype !== "float32" && dtype !== "float64") throw new DTypeError(`cpu.random: needs a float dtype, got ${dtype}`);
    const words = philoxWords(key, counter, wordsFor(dtype, size));
    const out = this.make(dtype, size, false);
    (dist === "uniform" ? uniformFromWords : normalFromWords)(words, dtype, out.data as Floats);
    return out;
  }
}

/**
 * The process-wide CPU backend: device "cpu" unless `registerBackend` replaces it. The registry in backend.ts
 * refers to it by import, not this module by a registration side effect, so a bundler that honours
 * `"sideEffects": false` keeps it.
 */
export const cpuBackend: CpuBackend = new CpuBackend();

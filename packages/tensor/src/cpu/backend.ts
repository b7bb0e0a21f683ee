import type { Backend, Storage, StridedView } from "../backend.ts";
import { registerBackend } from "../backend.ts";
import { allocTyped, type DType, isFloat, type TypedArray } from "../dtype.ts";
import { DTypeError } from "../errors.ts";
import { normalFromWords, philoxWords, uniformFromWords, wordsFor } from "../random.ts";
import { conv2dForward, conv2dInputGrad, conv2dWeightGrad } from "./conv2d.ts";
import { binaryFn, binaryInto, copyStrided, unaryFn, unaryInto, whereInto } from "./elementwise.ts";
import { type Gemm, gemmPlain, matmulInto } from "./gemm.ts";
import { gatherInto, indexAddInto, indexSelectInto, scatterAddInto } from "./indexing.ts";
import { avgPoolBackward, avgPoolForward, maxPoolBackward, maxPoolForward } from "./pool2d.ts";
import { argReduceRows, reduceRows } from "./reduce.ts";
import { CpuStorage, dataOf } from "./storage.ts";
import { gemm as wasmGemm, wasmFeatures } from "./wasm/mod.ts";

type Floats = Float32Array | Float64Array;

function floats(s: Storage): Floats {
  if (!isFloat(s.dtype)) throw new DTypeError(`cpu: kernel needs float32/float64 data, got ${s.dtype}`);
  return dataOf(s) as Floats;
}

/** float32 GEMM through the WebAssembly SIMD kernels (packed, register-tiled, split over the worker pool). */
const gemmWasm: Gemm = (transA, transB, m, n, k, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc, accumulate) =>
  wasmGemm(
    transA, transB, m, n, k,
    a as Float32Array, aOffset, lda, b as Float32Array, bOffset, ldb, c as Float32Array, cOffset, ldc,
    accumulate ? 1 : 0,
  );

function defaultFloat32Gemm(): Gemm {
  try {
    return wasmFeatures().simd ? gemmWasm : gemmPlain;
  } catch {
    return gemmPlain;
  }
}

/**
 * The CPU backend: typed arrays; float32 matrix products (matmul and the convolutions' GEMMs) run in
 * WebAssembly SIMD where the engine has it, everything else in plain TypeScript loops.
 */
export class CpuBackend implements Backend {
  readonly name = "cpu";
  readonly supportsFloat64 = true;
  #storages = 0;
  #bytes = 0;
  /** The float32 GEMM in use: the Wasm SIMD kernel where available, else plain loops (assign to swap). */
  gemmFloat32: Gemm = defaultFloat32Gemm();

  /** Wraps a typed array as a storage and counts it. */
  private wrap(dtype: DType, data: TypedArray): CpuStorage {
    const s = new CpuStorage(this, dtype, data);
    this.#storages++;
    this.#bytes += s.bytes;
    return s;
  }

  /** float32 products use the replaceable GEMM; float64 and int32 the plain one. */
  private gemmFor(dtype: DType): Gemm {
    return dtype === "float32" ? this.gemmFloat32 : gemmPlain;
  }

  alloc(dtype: DType, size: number): Storage {
    return this.wrap(dtype, allocTyped(dtype, size));
  }

  upload(data: TypedArray | readonly number[], dtype: DType): Storage {
    const out = allocTyped(dtype, data.length);
    if (dtype === "bool") for (let i = 0; i < data.length; i++) out[i] = data[i] ? 1 : 0;
    else out.set(data as ArrayLike<number>);
    return this.wrap(dtype, out);
  }

  read(storage: Storage): Promise<TypedArray> {
    return Promise.resolve(this.readSync(storage));
  }

  readSync(storage: Storage): TypedArray {
    return dataOf(storage).slice();
  }

  release(storage: Storage): void {
    this.#storages--;
    this.#bytes -= (storage as CpuStorage).bytes;
  }

  memory(): { storages: number; bytes: number } {
    return { storages: this.#storages, bytes: this.#bytes };
  }

  full(dtype: DType, size: number, value: number): Storage {
    const data = allocTyped(dtype, size);
    if (value !== 0) data.fill(dtype === "bool" ? (value ? 1 : 0) : value);
    return this.wrap(dtype, data);
  }

  copy(src: StridedView, dst: StridedView): void {
    copyStrided(src, dst);
  }

  unary(op: Parameters<Backend["unary"]>[0], x: StridedView, outDtype: DType, param?: number): Storage {
    const out = allocTyped(outDtype, x.shape.reduce((a, b) => a * b, 1));
    unaryInto(unaryFn(op, param), x, out);
    return this.wrap(outDtype, out);
  }

  binary(op: Parameters<Backend["binary"]>[0], a: StridedView, b: StridedView, shape: readonly number[], outDtype: DType): Storage {
    const out = allocTyped(outDtype, shape.reduce((x, y) => x * y, 1));
    binaryInto(binaryFn(op), a, b, shape, out);
    return this.wrap(outDtype, out);
  }

  where(cond: StridedView, a: StridedView, b: StridedView, shape: readonly number[], outDtype: DType): Storage {
    const out = allocTyped(outDtype, shape.reduce((x, y) => x * y, 1));
    whereInto(cond, a, b, shape, out);
    return this.wrap(outDtype, out);
  }

  reduce(op: Parameters<Backend["reduce"]>[0], x: Storage, outer: number, reduceSize: number): Storage {
    const out = allocTyped(x.dtype, outer);
    reduceRows(op, dataOf(x), outer, reduceSize, out);
    return this.wrap(x.dtype, out);
  }

  argReduce(op: Parameters<Backend["argReduce"]>[0], x: Storage, outer: number, reduceSize: number): Storage {
    const out = new Int32Array(outer);
    argReduceRows(op, dataOf(x), outer, reduceSize, out);
    return this.wrap("int32", out);
  }

  matmul(a: StridedView, b: StridedView, outDtype: DType): Storage {
    const [batch, m] = a.shape as [number, number];
    const out = allocTyped(outDtype, batch * m * b.shape[2]!);
    matmulInto(a, b, out, this.gemmFor(outDtype));
    return this.wrap(outDtype, out);
  }

  conv2d(x: Storage, weight: Storage, p: Parameters<Backend["conv2d"]>[2]): Storage {
    const out = allocTyped(x.dtype, p.n * p.outC * p.oh * p.ow) as Floats;
    conv2dForward(floats(x), floats(weight), p, out, this.gemmFor(x.dtype));
    return this.wrap(x.dtype, out);
  }

  conv2dBackwardInput(gradOut: Storage, weight: Storage, p: Parameters<Backend["conv2d"]>[2]): Storage {
    const dx = allocTyped(gradOut.dtype, p.n * p.c * p.h * p.w) as Floats;
    conv2dInputGrad(floats(gradOut), floats(weight), p, dx, this.gemmFor(gradOut.dtype));
    return this.wrap(gradOut.dtype, dx);
  }

  conv2dBackwardWeight(x: Storage, gradOut: Storage, p: Parameters<Backend["conv2d"]>[2]): Storage {
    const dw = allocTyped(x.dtype, p.outC * (p.c / p.groups) * p.kh * p.kw) as Floats;
    conv2dWeightGrad(floats(x), floats(gradOut), p, dw, this.gemmFor(x.dtype));
    return this.wrap(x.dtype, dw);
  }

  maxPool2d(x: Storage, p: Parameters<Backend["maxPool2d"]>[1]): { out: Storage; indices: Storage } {
    const size = p.n * p.c * p.oh * p.ow;
    const out = allocTyped(x.dtype, size) as Floats, indices = new Int32Array(size);
    maxPoolForward(floats(x), p, out, indices);
    return { out: this.wrap(x.dtype, out), indices: this.wrap("int32", indices) };
  }

  maxPool2dBackward(gradOut: Storage, indices: Storage, p: Parameters<Backend["maxPool2d"]>[1]): Storage {
    const dx = allocTyped(gradOut.dtype, p.n * p.c * p.h * p.w) as Floats;
    maxPoolBackward(floats(gradOut), dataOf(indices) as Int32Array, p, dx);
    return this.wrap(gradOut.dtype, dx);
  }

  avgPool2d(x: Storage, p: Parameters<Backend["avgPool2d"]>[1]): Storage {
    const out = allocTyped(x.dtype, p.n * p.c * p.oh * p.ow) as Floats;
    avgPoolForward(floats(x), p, out);
    return this.wrap(x.dtype, out);
  }

  avgPool2dBackward(gradOut: Storage, p: Parameters<Backend["avgPool2d"]>[1]): Storage {
    const dx = allocTyped(gradOut.dtype, p.n * p.c * p.h * p.w) as Floats;
    avgPoolBackward(floats(gradOut), p, dx);
    return this.wrap(gradOut.dtype, dx);
  }

  gather(x: Storage, index: Storage, p: Parameters<Backend["gather"]>[2]): Storage {
    const out = allocTyped(x.dtype, p.outer * p.indexSize * p.inner);
    gatherInto(dataOf(x), dataOf(index) as Int32Array, p, out);
    return this.wrap(x.dtype, out);
  }

  scatterAdd(src: Storage, index: Storage, p: Parameters<Backend["gather"]>[2]): Storage {
    const out = allocTyped(src.dtype, p.outer * p.axisSize * p.inner);
    scatterAddInto(dataOf(src), dataOf(index) as Int32Array, p, out);
    return this.wrap(src.dtype, out);
  }

  indexSelect(x: Storage, index: Storage, p: Parameters<Backend["gather"]>[2]): Storage {
    const out = allocTyped(x.dtype, p.outer * p.indexSize * p.inner);
    indexSelectInto(dataOf(x), dataOf(index) as Int32Array, p, out);
    return this.wrap(x.dtype, out);
  }

  indexAdd(src: Storage, index: Storage, p: Parameters<Backend["gather"]>[2]): Storage {
    const out = allocTyped(src.dtype, p.outer * p.axisSize * p.inner);
    indexAddInto(dataOf(src), dataOf(index) as Int32Array, p, out);
    return this.wrap(src.dtype, out);
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
    const out = allocTyped(dtype, size) as Floats;
    (dist === "uniform" ? uniformFromWords : normalFromWords)(words, dtype, out);
    return this.wrap(dtype, out);
  }
}

/** The process-wide CPU backend (registered as device "cpu"). */
export const cpuBackend: CpuBackend = new CpuBackend();
registerBackend(cpuBackend);

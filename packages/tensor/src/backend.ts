import type { DType, TypedArray } from "./dtype.ts";
import { DeviceError } from "./errors.ts";

/**
 * A block of device memory holding `size` elements of `dtype`. Opaque above the backend: only the backend that
 * made it reads or writes it. `refs` counts the arrays that use it (views share storage), see `NDArray.dispose`.
 */
export interface Storage {
  readonly backend: Backend;
  readonly dtype: DType;
  readonly size: number;
  refs: number;
}

/** How a kernel sees an operand: a storage plus a strided window on it (strides in elements; 0 = broadcast). */
export interface StridedView {
  readonly storage: Storage;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

export type UnaryOp =
  | "neg" | "abs" | "sign" | "exp" | "log" | "log1p" | "expm1" | "sqrt" | "rsqrt" | "square" | "reciprocal"
  | "sin" | "cos" | "tanh" | "sigmoid" | "relu" | "elu" | "floor" | "ceil" | "round" | "logicalNot";

export type BinaryOp =
  | "add" | "sub" | "mul" | "div" | "pow" | "maximum" | "minimum"
  | "eq" | "ne" | "lt" | "le" | "gt" | "ge" | "logicalAnd" | "logicalOr";

export type ReduceOp = "sum" | "prod" | "max" | "min";
export type ArgReduceOp = "argmax" | "argmin";
export type RandomDistribution = "uniform" | "normal";

/** Sizes of a 2-D convolution, NCHW input [n, c, h, w], weight [outC, c / groups, kh, kw], output [n, outC, oh, ow]. */
export interface Conv2dParams {
  n: number;
  c: number;
  h: number;
  w: number;
  outC: number;
  kh: number;
  kw: number;
  oh: number;
  ow: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  dilationH: number;
  dilationW: number;
  groups: number;
}

/** Sizes of a 2-D pooling window over NCHW input [n, c, h, w] giving [n, c, oh, ow]. */
export interface Pool2dParams {
  n: number;
  c: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  oh: number;
  ow: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  dilationH: number;
  dilationW: number;
  /** avgPool2d only: divide by the full window (true, PyTorch's default) or by the in-bounds part. */
  countIncludePad: boolean;
}

/**
 * Contiguous array seen as [outer, axisSize, inner], indexed along the middle axis.
 * gather/scatterAdd: the index has shape [outer, indexSize, inner] (PyTorch `gather` with equal other dims).
 * indexSelect/indexAdd: the index is 1-D of length indexSize, shared by every outer/inner position.
 */
export interface AxisIndexParams {
  outer: number;
  axisSize: number;
  inner: number;
  indexSize: number;
}

/**
 * The primitive kernels. Every operation of the library is composed above this list; a new backend implements
 * it and passes the conformance suite (`@backprop/tensor/testing`). Each kernel returns a new contiguous storage,
 * except `copy`, which writes into an existing one. Operands marked "contiguous" start at element 0.
 */
export interface Backend {
  /** The device name arrays report (`"cpu"`, `"webgpu"`). */
  readonly name: string;
  readonly supportsFloat64: boolean;

  /** A zero-filled storage. */
  alloc(dtype: DType, size: number): Storage;
  /** A storage holding a copy of `data` converted to `dtype`. */
  upload(data: TypedArray | readonly number[], dtype: DType): Storage;
  /** A copy of the storage's contents. */
  read(storage: Storage): Promise<TypedArray>;
  /** Synchronous read, where the device allows it (the CPU does). */
  readSync?(storage: Storage): TypedArray;
  /** Gives the memory back. Called once, when the last array using the storage is disposed. */
  release(storage: Storage): void;
  /** Storages allocated and not yet released, and their bytes (for leak tests). */
  memory(): { storages: number; bytes: number };

  full(dtype: DType, size: number, value: number): Storage;
  /** Copies (and casts) `src` into `dst`, element by element in row-major order of the shared shape. */
  copy(src: StridedView, dst: StridedView): void;
  /** `param` is ELU's alpha. */
  unary(op: UnaryOp, x: StridedView, outDtype: DType, param?: number): Storage;
  /** Both operands already expanded (stride 0) to `outShape`; computed in the promoted `computeDtype`. */
  binary(op: BinaryOp, a: StridedView, b: StridedView, outShape: readonly number[], outDtype: DType): Storage;
  where(cond: StridedView, a: StridedView, b: StridedView, outShape: readonly number[], outDtype: DType): Storage;
  /** Reduces each row of a contiguous [outer, reduceSize] array. */
  reduce(op: ReduceOp, x: Storage, outer: number, reduceSize: number): Storage;
  argReduce(op: ArgReduceOp, x: Storage, outer: number, reduceSize: number): Storage;
  /** Batched product [B, M, K] × [B, K, N] → [B, M, N]; any strides (transposed or broadcast views included). */
  matmul(a: StridedView, b: StridedView, outDtype: DType): Storage;

  conv2d(x: Storage, weight: Storage, p: Conv2dParams): Storage;
  conv2dBackwardInput(gradOut: Storage, weight: Storage, p: Conv2dParams): Storage;
  conv2dBackwardWeight(x: Storage, gradOut: Storage, p: Conv2dParams): Storage;
  /** Returns the pooled values and, per output, the flat index (h * w + col) of the chosen input in its plane. */
  maxPool2d(x: Storage, p: Pool2dParams): { out: Storage; indices: Storage };
  maxPool2dBackward(gradOut: Storage, indices: Storage, p: Pool2dParams): Storage;
  avgPool2d(x: Storage, p: Pool2dParams): Storage;
  avgPool2dBackward(gradOut: Storage, p: Pool2dParams): Storage;

  gather(x: Storage, index: Storage, p: AxisIndexParams): Storage;
  scatterAdd(src: Storage, index: Storage, p: AxisIndexParams): Storage;
  indexSelect(x: Storage, index: Storage, p: AxisIndexParams): Storage;
  indexAdd(src: Storage, index: Storage, p: AxisIndexParams): Storage;

  /**
   * `size` random numbers from the Philox-4x32-10 stream of `key` starting at block `counter` (each block gives
   * four 32-bit words), so every backend produces the same numbers for the same generator state.
   */
  random(dist: RandomDistribution, dtype: DType, size: number, key: readonly [number, number], counter: number): Storage;
}

const backends = new Map<string, Backend>();

export function registerBackend(backend: Backend): void {
  backends.set(backend.name, backend);
}

export function getBackend(device: string): Backend {
  const b = backends.get(device);
  if (!b) {
    const known = [...backends.keys()].join(", ");
    const hint = device === "webgpu" ? " (initialise it first: `await initWebGPU()` from @backprop/gpu)" : "";
    throw new DeviceError(`device "${device}" is not available${hint}; registered devices: ${known}`);
  }
  return b;
}

export function hasBackend(device: string): boolean {
  return backends.has(device);
}

export function listBackends(): string[] {
  return [...backends.keys()];
}

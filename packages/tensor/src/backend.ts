import type { DType, TypedArray } from "./dtype.ts";
import { DeviceError } from "./errors.ts";
import { cpuBackend } from "./cpu/backend.ts";
import type { BinaryOp, UnaryOp } from "./ops/op_table.ts";
import type { Expr } from "./expr/ir.ts";

/**
 * A block of device memory holding `size` elements of `dtype`. Opaque above the backend: only the backend that
 * made it reads or writes it. `refs` counts the arrays that use it (views share storage), see `NDArray.dispose`.
 */
export interface Storage {
  /** The backend that allocated it, and the only one that may read or write it. */
  readonly backend: Backend;
  /** Element type of every element. */
  readonly dtype: DType;
  /** Number of elements. */
  readonly size: number;
  /** Arrays currently using the storage; the backend's `release` runs when it drops to 0. */
  refs: number;
}

/** How a kernel sees an operand: a storage plus a strided window on it (strides in elements; 0 = broadcast). */
export interface StridedView {
  /** The storage the elements live in. */
  readonly storage: Storage;
  /** Logical shape. */
  readonly shape: readonly number[];
  /** Per dimension, the distance in elements between neighbours (0 for a broadcast dimension). */
  readonly strides: readonly number[];
  /** Element index of the first element in the storage. */
  readonly offset: number;
}

export type { BinaryOp, UnaryOp } from "./ops/op_table.ts";

/**
 * A fused elementwise computation: each output is an expression (src/expr/ir.ts) over the inputs and the call's
 * scalar parameters, all computed in `dtype`. `key` identifies the expressions, so a backend compiles each once.
 */
export interface FusedProgram {
  /** One expression per output. */
  readonly outputs: readonly Expr[];
  /** Compute and output dtype (float32 or float64); every input has it too. */
  readonly dtype: DType;
  /** The cache key: the dtype and `exprKey` of each output. */
  readonly key: string;
}

/** Reductions of the `reduce` kernel. */
export type ReduceOp = "sum" | "prod" | "max" | "min";
/** Index-of-extreme reductions of the `argReduce` kernel (the first index wins ties). */
export type ArgReduceOp = "argmax" | "argmin";
/** Distributions of the `random` kernel: uniform in [0, 1) or standard normal. */
export type RandomDistribution = "uniform" | "normal";

/** Sizes of a 2-D convolution, NCHW input [n, c, h, w], weight [outC, c / groups, kh, kw], output [n, outC, oh, ow]. */
export interface Conv2dParams {
  /** Batch size. */
  n: number;
  /** Input channels. */
  c: number;
  /** Input height. */
  h: number;
  /** Input width. */
  w: number;
  /** Output channels. */
  outC: number;
  /** Kernel height. */
  kh: number;
  /** Kernel width. */
  kw: number;
  /** Output height. */
  oh: number;
  /** Output width. */
  ow: number;
  /** Vertical step between windows. */
  strideH: number;
  /** Horizontal step between windows. */
  strideW: number;
  /** Zero rows added above and below. */
  padH: number;
  /** Zero columns added left and right. */
  padW: number;
  /** Vertical spacing of kernel taps. */
  dilationH: number;
  /** Horizontal spacing of kernel taps. */
  dilationW: number;
  /** Channel groups: output channel o sees only input channels of group ⌊o / (outC / groups)⌋. */
  groups: number;
}

/** Sizes of a 2-D pooling window over NCHW input [n, c, h, w] giving [n, c, oh, ow]. */
export interface Pool2dParams {
  /** Batch size. */
  n: number;
  /** Channels (pooled independently). */
  c: number;
  /** Input height. */
  h: number;
  /** Input width. */
  w: number;
  /** Window height. */
  kh: number;
  /** Window width. */
  kw: number;
  /** Output height. */
  oh: number;
  /** Output width. */
  ow: number;
  /** Vertical step between windows. */
  strideH: number;
  /** Horizontal step between windows. */
  strideW: number;
  /** Padding rows above and below (never chosen by max pooling). */
  padH: number;
  /** Padding columns left and right. */
  padW: number;
  /** Vertical spacing of window taps (max pooling only; 1 for average pooling). */
  dilationH: number;
  /** Horizontal spacing of window taps. */
  dilationW: number;
  /** avgPool2d only: divide by the full window (true, PyTorch's default) or by the in-bounds part. */
  countIncludePad: boolean;
}

/**
 * Indexing along dimension `dim` of N-d strided views of one rank (stride 0 broadcasts, so one index row can
 * serve every position, as `indexSelect` uses it). The index (int32) and the gathered or scattered array have the
 * same shape; the indexed (or scattered-into) array has it too, except `axisSize` along `dim`.
 */
export interface AxisIndexParams {
  /** The indexed dimension. */
  dim: number;
  /** Size of `dim` in the indexed (or scattered-into) array. */
  axisSize: number;
  /** The operation an out-of-range index is reported under (default: the kernel's own name). */
  name?: "gather" | "scatterAdd" | "indexSelect" | "indexAdd";
}

/**
 * The primitive kernels. Every operation of the library is composed above this list; a new backend implements
 * it and passes the conformance suite (`@backprop/tensor/testing`). Each kernel returns a new contiguous storage,
 * except `copy`, which writes into an existing one. Operands marked "contiguous" start at element 0.
 */
export interface Backend {
  /** The device name arrays report (`"cpu"`, `"webgpu"`). */
  readonly name: string;
  /** Whether float64 storages and kernels exist (WebGPU has no float64). */
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

  /** A storage with every element `value`, converted like a stored value (int32 truncates, bool is value ≠ 0). */
  full(dtype: DType, size: number, value: number): Storage;
  /** Copies (and casts) `src` into `dst`, element by element in row-major order of the shared shape. */
  copy(src: StridedView, dst: StridedView): void;
  /** `param` is ELU's alpha. */
  unary(op: UnaryOp, x: StridedView, outDtype: DType, param?: number): Storage;
  /** Both operands already expanded (stride 0) to `outShape`; computed in the promoted `computeDtype`. */
  binary(op: BinaryOp, a: StridedView, b: StridedView, outShape: readonly number[], outDtype: DType): Storage;
  /** `a` where the bool `cond` is true, else `b`; all three already expanded to `outShape` and of `outDtype`. */
  where(cond: StridedView, a: StridedView, b: StridedView, outShape: readonly number[], outDtype: DType): Storage;
  /**
   * Optional: evaluates `program` for every element of `shape` in one pass over the inputs (views expanded to
   * `shape`, stride 0 where broadcast), one new contiguous storage per output. Returns undefined where this
   * backend cannot run it (the caller then computes op by op, so results never depend on fusion).
   */
  fused?(program: FusedProgram, inputs: readonly StridedView[], shape: readonly number[], params: readonly number[]): Storage[] | undefined;
  /**
   * Reduces each row of `x` read in row-major order as [outer, reduceSize]: its leading dimensions are the kept
   * ones (product `outer`), the rest the reduced ones. Any strides: a permuted, sliced or broadcast view is read
   * in place.
   */
  reduce(op: ReduceOp, x: StridedView, outer: number, reduceSize: number): Storage;
  /** Per row of `x` seen as for `reduce`, the int32 index of its first largest/smallest value. */
  argReduce(op: ArgReduceOp, x: StridedView, outer: number, reduceSize: number): Storage;
  /** Batched product [B, M, K] × [B, K, N] → [B, M, N]; any strides (transposed or broadcast views included). */
  matmul(a: StridedView, b: StridedView, outDtype: DType): Storage;
  /**
   * Optional: `matmul` with a bias epilogue — every row of the product gets the [N] float `bias` added, then
   * max(·, 0) (NaN kept) when `relu`; all of `outDtype`. Equal to matmul, add (and relu) op by op, which is what
   * `matmulBias` runs on a backend without it.
   */
  matmulBias?(a: StridedView, b: StridedView, bias: StridedView, relu: boolean, outDtype: DType): Storage;

  /** Cross-correlation of contiguous x [n, c, h, w] with weight [outC, c / groups, kh, kw] into [n, outC, oh, ow]. */
  conv2d(x: Storage, weight: Storage, p: Conv2dParams): Storage;
  /** Gradient of `conv2d` with respect to x, from gradOut [n, outC, oh, ow]. */
  conv2dBackwardInput(gradOut: Storage, weight: Storage, p: Conv2dParams): Storage;
  /** Gradient of `conv2d` with respect to the weight, summed over the batch. */
  conv2dBackwardWeight(x: Storage, gradOut: Storage, p: Conv2dParams): Storage;
  /** Returns the pooled values and, per output, the flat index (h * w + col) of the chosen input in its plane. */
  maxPool2d(x: Storage, p: Pool2dParams): { out: Storage; indices: Storage };
  /** Sends each output gradient to the input position `indices` names, summing where windows overlap. */
  maxPool2dBackward(gradOut: Storage, indices: Storage, p: Pool2dParams): Storage;
  /** Mean of each window (divisor per `p.countIncludePad`). */
  avgPool2d(x: Storage, p: Pool2dParams): Storage;
  /** Spreads each output gradient evenly over its window's in-bounds inputs. */
  avgPool2dBackward(gradOut: Storage, p: Pool2dParams): Storage;

  /** out[…, j, …] = x[…, index[…, j, …], …] along `p.dim`, contiguous in the index's shape; any strides. */
  gather(x: StridedView, index: StridedView, p: AxisIndexParams): Storage;
  /**
   * A new zeroed contiguous array of the index's shape with `p.axisSize` along `p.dim`, with src[…, j, …] added at
   * […, index[…, j, …], …]; any strides.
   */
  scatterAdd(src: StridedView, index: StridedView, p: AxisIndexParams): Storage;

  /**
   * `size` random numbers from the Philox-4x32-10 stream of `key` starting at block `counter` (each block gives
   * four 32-bit words), so every backend produces the same numbers for the same generator state.
   */
  random(dist: RandomDistribution, dtype: DType, size: number, key: readonly [number, number], counter: number): Storage;
}

// The built-in CPU backend is in the registry by reference, not registered by an import side effect of
// cpu/backend.ts: a bundler drops such side effects under "sideEffects": false.
const registry = new Map<string, Backend>([[cpuBackend.name, cpuBackend]]);

/** Makes `backend` available as device `backend.name` (replacing one of that name, "cpu" included). */
export function registerBackend(backend: Backend): void {
  registry.set(backend.name, backend);
}

/** The backend of `device`; a DeviceError names the registered devices when there is none. */
export function getBackend(device: string): Backend {
  const b = registry.get(device);
  if (!b) {
    const known = [...registry.keys()].join(", ");
    const hint = device === "webgpu" ? " (initialise it first: `await initWebGPU()` from @backprop/gpu)" : "";
    throw new DeviceError(`device "${device}" is not available${hint}; registered devices: ${known}`);
  }
  return b;
}

/** Whether `device` is registered. */
export function hasBackend(device: string): boolean {
  return registry.has(device);
}

/** Names of the registered devices. */
export function listBackends(): string[] {
  return [...registry.keys()];
}

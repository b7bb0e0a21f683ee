/**
 * @module
 * N-dimensional arrays (`NDArray`) on pluggable devices, the primitive kernel interface (`Backend`) and the
 * CPU backend. Every operation is composed above the short kernel list in `Backend`.
 *
 * @example
 * ```ts
 * import { tensor } from "@backprop/tensor";
 * const a = tensor([[1, 2], [3, 4]], { dtype: "float32" });
 * const b = a.matmul(a.T).add(1);
 * console.log(b.toString());
 * ```
 */
export type { DType, TypedArray } from "./dtype.ts";
export { DTYPES, isFloat, promoteTypes } from "./dtype.ts";
export {
  BackpropError,
  DeviceError,
  DisposedError,
  DTypeError,
  InternalError,
  OutOfMemoryError,
  ShapeError,
  ValueError,
} from "./errors.ts";
export type {
  ArgReduceOp,
  AxisIndexParams,
  Backend,
  BinaryOp,
  FusedProgram,
  Conv2dParams,
  Pool2dParams,
  RandomDistribution,
  ReduceOp,
  Storage,
  StridedView,
  UnaryOp,
} from "./backend.ts";
export { getBackend, hasBackend, listBackends, registerBackend } from "./backend.ts";
export type { Shape } from "./shape.ts";
export { broadcastShapes, contiguousStrides, sizeOf } from "./shape.ts";
export type { Disposable } from "./scope.ts";
export { isTemporary, keep, OWNED_ARRAYS, tidy } from "./scope.ts";
export { defaultGenerator, Generator, manualSeed, philox4x32, philoxBlock } from "./random.ts";
export { NDArray } from "./ndarray.ts";
export { formatArray } from "./format.ts";
export { CpuBackend, cpuBackend } from "./cpu/backend.ts";
export type { CpuKernelInfo } from "./cpu/settings.ts";
export { cpuKernelInfo, getNumThreads, measureCpuPeakGflops, setNumThreads, setRelaxedSimd } from "./cpu/settings.ts";
export { WasmUnavailableError } from "./cpu/wasm/runtime.ts";

export type { CreateOptions, Nested, RandomOptions } from "./ops/creation.ts";
export type { Operand } from "./ops/operands.ts";
export type { Dims } from "./ops/reduce.ts";
export {
  arange,
  eye,
  full,
  fullLike,
  linspace,
  normal,
  ones,
  onesLike,
  rand,
  randint,
  randn,
  randperm,
  tensor,
  uniform,
  zeros,
  zerosLike,
} from "./ops/creation.ts";
export { fused, opByOp } from "./ops/fused.ts";
// Every op of the table has its named function there, so a new op is exported without an edit here.
export * from "./ops/elementwise.ts";
export { argmax, argmin, max, mean, min, prod, sum, variance } from "./ops/reduce.ts";
export { logSoftmax, logSumExp, softmax } from "./ops/softmax.ts";
export { matmul, matmulBias, type MatmulBiasOptions } from "./ops/matmul.ts";
export type { Conv2dOptions, Pair, Pool2dOptions } from "./ops/conv.ts";
export {
  avgPool2d,
  avgPool2dBackward,
  conv2d,
  conv2dBackwardInput,
  conv2dBackwardWeight,
  conv2dParams,
  maxPool2d,
  maxPool2dBackward,
  pool2dParams,
} from "./ops/conv.ts";
export { gather, indexAdd, indexSelect, oneHot, scatterAdd } from "./ops/indexing.ts";
export { concat, split, stack } from "./ops/join.ts";

export type { BinaryDef, ParamUnaryOp, UnaryDef } from "./ops/op_table.ts";
export {
  BINARY_OP_NAMES,
  BINARY_TABLE,
  binaryDef,
  BOOL_BINARY_OPS,
  INTEGRAL_UNARY_OPS,
  UNARY_OP_NAMES,
  UNARY_TABLE,
  unaryDef,
} from "./ops/op_table.ts";
export type { BinaryBuilder, Expr, ExprLike, PrimBinary, PrimUnary, UnaryBuilder } from "./expr/ir.ts";
export { arity, E, exprKey, PRIM_COMPARISONS, walk } from "./expr/ir.ts";
export { evaluate, primBinary, primUnary } from "./expr/evaluate.ts";

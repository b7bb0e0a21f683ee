/**
 * @module
 * Reverse-mode automatic differentiation over `@backprop/tensor`: `Tensor` records operations, `backward()`
 * computes gradients, `Function` defines operations with hand-written backward passes, and `gradcheck`
 * verifies gradients against finite differences.
 *
 * @example
 * ```ts
 * import { tensor } from "@backprop/autograd";
 * const x = tensor([1, 2, 3], { dtype: "float32", requiresGrad: true });
 * const y = x.mul(x).sum();
 * y.backward();
 * console.log(x.grad!.toString()); // tensor([2., 4., 6.], dtype=float32)
 * ```
 */
export { Tensor } from "./tensor.ts";
export { Node } from "./node.ts";
export type { BackwardFn } from "./node.ts";
export { DoubleBackwardError, GraphError } from "./engine.ts";
export type { BackwardOptions } from "./engine.ts";
export { enableGrad, isGradEnabled, noGrad } from "./grad_mode.ts";
export { Function, FunctionCtx } from "./function.ts";
export { gradcheck, GradcheckError, relError } from "./gradcheck.ts";
export type { GradcheckOptions, GradcheckResult, InputCheck } from "./gradcheck.ts";
export type { NestedArray, TensorOptions } from "./creation.ts";
export { arange, eye, full, linspace, ones, onesLike, rand, randint, randn, randperm, tensor, zeros, zerosLike } from "./creation.ts";
export type { Dims } from "./ops/reduce.ts";
// Every op of the table has its named function there, so a new op is exported without an edit here.
export * from "./ops/elementwise.ts";
export { argmax, argmin, logSumExp, max, mean, min, prod, sum, variance } from "./ops/reduce.ts";
export {
  cast, clone, contiguous, expand, flatten, narrow, permute, reshape, select, slice, squeeze, to, transpose, unsqueeze,
} from "./ops/views.ts";
export { avgPool2d, conv2d, matmul, maxPool2d, maxPool2dWithIndices } from "./ops/linalg.ts";
export { logSoftmax, softmax } from "./ops/softmax.ts";
export { gather, indexAdd, indexSelect, scatterAdd } from "./ops/indexing.ts";
export { concat, split, stack } from "./ops/join.ts";
export { gradcheckOnDevice } from "./device_gradcheck.ts";
// The elementwise backward rules, for a Function that folds an elementwise op into its own forward.
export { BINARY_BACKWARD, UNARY_BACKWARD } from "./ops/derivatives.ts";
export type { BinaryBackward, UnaryBackward } from "./ops/derivatives.ts";
export type { DeviceGradcheckOptions, DeviceGradcheckResult, DeviceInputCheck } from "./device_gradcheck.ts";

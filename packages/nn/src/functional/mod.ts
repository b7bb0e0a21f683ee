/** Stateless forms of the layers and losses, as PyTorch's `torch.nn.functional`. */
export { linear, linearRelu } from "./linear.ts";
export { dropout } from "./dropout.ts";
export { batchNorm } from "./batch_norm.ts";
export type { BatchNormOptions } from "./batch_norm.ts";
export { crossEntropy, mseLoss, nllLoss } from "./losses.ts";
export type { CrossEntropyOptions, LossOptions, Reduction } from "./losses.ts";
export {
  avgPool2d, conv2d, elu, logSoftmax, maxPool2d, relu, sigmoid, softmax, tanh,
} from "@backprop/autograd";

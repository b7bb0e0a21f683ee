/**
 * @module
 * Neural-network building blocks over `@backprop/autograd`, following PyTorch's `torch.nn` and `torch.optim`:
 * `Module` with named parameters, buffers and state dicts; layers (Linear, Conv2d, BatchNorm, pooling,
 * activations, Dropout); losses; `init`; optimizers (SGD, Adam, AdamW) and learning-rate schedules; safetensors encoding. Also the
 * assignment's models: the hand-written-backprop modules (`LinearModule`, …, `ManualMLP`), the three custom
 * batch norms, `MLP` and `ConvNet`.
 *
 * @example
 * ```ts
 * import { tidy } from "@backprop/tensor";
 * import { tensor } from "@backprop/autograd";
 * import { crossEntropy, MLP, SGD } from "@backprop/nn";
 *
 * const model = new MLP(2, [16], 2);
 * const optimizer = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 * const x = tensor([[0, 0], [0, 1], [1, 0], [1, 1]], { dtype: "float32" });
 * const y = tensor([0, 1, 1, 0]);
 * for (let step = 0; step < 200; step++) {
 *   tidy(() => {
 *     optimizer.zeroGrad();
 *     crossEntropy(model.forward(x), y).backward();
 *     optimizer.step();
 *   });
 * }
 * ```
 */
export { Parameter } from "./parameter.ts";
export { Module } from "./module.ts";
export type { LoadStateDictResult } from "./module.ts";
export { Sequential } from "./sequential.ts";
export { ModuleList } from "./module_list.ts";
export { ChecksumError, ModuleError, SafetensorsError, StateDictError } from "./errors.ts";
export type { ShapeMismatch } from "./errors.ts";
export type { FactoryOptions } from "./options.ts";
export * as init from "./init.ts";

export { Linear } from "./layers/linear.ts";
export { ELU, Identity, LogSoftmax, ReLU, Sigmoid, Softmax, Softplus, Tanh } from "./layers/activations.ts";
export { Flatten } from "./layers/flatten.ts";
export { Dropout } from "./layers/dropout.ts";
export { Conv2d } from "./layers/conv2d.ts";
export type { Conv2dLayerOptions } from "./layers/conv2d.ts";
export { AvgPool2d, MaxPool2d } from "./layers/pooling.ts";
export { BatchNorm1d, BatchNorm2d, BatchNormBase } from "./layers/batch_norm.ts";
export type { BatchNormLayerOptions } from "./layers/batch_norm.ts";

export * as functional from "./functional/mod.ts";
export { batchNorm, crossEntropy, dropout, linear, linearRelu, mseLoss, nllLoss } from "./functional/mod.ts";
export type { BatchNormOptions, CrossEntropyOptions, LossOptions, Reduction } from "./functional/mod.ts";
export { CrossEntropyLoss } from "./losses/cross_entropy_loss.ts";
export { NLLLoss } from "./losses/nll_loss.ts";
export { MSELoss } from "./losses/mse_loss.ts";

export { Optimizer } from "./optim/optimizer.ts";
export type { Hyper, OptimizerStateDict, ParamGroup, ParamState, SavedParamGroup } from "./optim/optimizer.ts";
export { SGD } from "./optim/sgd.ts";
export type { SGDOptions } from "./optim/sgd.ts";
export { Adam, AdamW } from "./optim/adam.ts";
export type { AdamOptions } from "./optim/adam.ts";
export { flattenOptimizerState, unflattenOptimizerState } from "./optim/flatten.ts";
export type { FlatOptimizerState } from "./optim/flatten.ts";
export { constantSchedule, cosineSchedule, LrScheduler } from "./optim/lr_scheduler.ts";
export type { CosineScheduleOptions, LrSchedule } from "./optim/lr_scheduler.ts";

export { LinearModule } from "./manual/linear_module.ts";
export type { BackwardOptions, LinearArrays, ManualOptions } from "./manual/linear_module.ts";
export { ReLUModule } from "./manual/relu_module.ts";
export { SoftMaxModule } from "./manual/softmax_module.ts";
export { CrossEntropyModule } from "./manual/cross_entropy_module.ts";
export { ManualMLP } from "./manual/manual_mlp.ts";

export { BatchNormAutograd } from "./custom_batch_norm/batch_norm_autograd.ts";
export { BatchNormManualFunction, BatchNormManualModule } from "./custom_batch_norm/batch_norm_manual.ts";

export { MLP } from "./models/mlp.ts";
export type { MLPBatchNorm, MLPOptions } from "./models/mlp.ts";
export { ConvNet } from "./models/convnet.ts";

export { encodeSafetensors } from "./safetensors/encode.ts";
export type { EncodeOptions } from "./safetensors/encode.ts";
export { decodeSafetensors } from "./safetensors/decode.ts";
export type { DecodeOptions, SafetensorsContents } from "./safetensors/decode.ts";
export { crc32c, crc32cHex } from "./safetensors/crc32c.ts";
export { loadSafetensorsFile, saveSafetensorsFile } from "./safetensors/file.ts";

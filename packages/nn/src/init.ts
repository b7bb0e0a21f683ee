/**
 * Parameter initialisation, as PyTorch's `torch.nn.init`: each function overwrites a tensor's values (with
 * `assign`, keeping the new array out of `tidy` scopes since parameters outlive them) and returns the tensor.
 * Random ones take an optional `generator`.
 */
import type { Tensor } from "@backprop/autograd";
import * as T from "@backprop/tensor";
import { fmtShape } from "./util.ts";

type InitOptions = { generator?: T.Generator };
export type Nonlinearity =
  | "linear" | "conv1d" | "conv2d" | "conv3d" | "sigmoid" | "tanh" | "relu" | "leaky_relu" | "selu";
export type FanMode = "fan_in" | "fan_out";

function write(t: Tensor, value: T.NDArray): Tensor {
  t.assign(T.keep(value));
  return t;
}

function floatDType(t: Tensor, fn: string): "float32" | "float64" {
  if (t.dtype !== "float32" && t.dtype !== "float64") {
    throw new T.DTypeError(`init.${fn}: needs a float tensor, got ${t.dtype} ${fmtShape(t.shape)}`);
  }
  return t.dtype;
}

/** The gain PyTorch recommends for a nonlinearity (`param` is leaky ReLU's negative slope, default 0.01). */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case "linear": case "conv1d": case "conv2d": case "conv3d": case "sigmoid":
      return 1;
    case "tanh":
      return 5 / 3;
    case "relu":
      return Math.SQRT2;
    case "leaky_relu": {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case "selu":
      return 3 / 4;
  }
}

/**
 * fan_in and fan_out of a weight: [out, in] for a linear layer, [out, in / groups, kh, kw] for a convolution
 * (the kernel's size multiplies both).
 */
export function calculateFans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) {
    throw new T.ShapeError(`init: fan in and fan out need a tensor with at least 2 dimensions, got ${fmtShape(shape)}`);
  }
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1]! * receptive, fanOut: shape[0]! * receptive };
}

/** Uniform values in [a, b). */
export function uniform_(t: Tensor, a = 0, b = 1, options: InitOptions = {}): Tensor {
  const dtype = floatDType(t, "uniform_");
  return write(t, T.uniform(t.shape, a, b, { dtype, device: t.device, generator: options.generator }));
}

/** Normal values with the given mean and standard deviation. */
export function normal_(t: Tensor, mean = 0, std = 1, options: InitOptions = {}): Tensor {
  const dtype = floatDType(t, "normal_");
  return write(t, T.normal(t.shape, mean, std, { dtype, device: t.device, generator: options.generator }));
}

export function constant_(t: Tensor, value: number): Tensor {
  return write(t, T.full(t.shape, value, { dtype: t.dtype, device: t.device }));
}

export const zeros_ = (t: Tensor): Tensor => constant_(t, 0);
export const ones_ = (t: Tensor): Tensor => constant_(t, 1);

interface KaimingOptions extends InitOptions {
  /** Leaky ReLU's negative slope (0 for ReLU). */
  a?: number;
  mode?: FanMode;
  nonlinearity?: Nonlinearity;
}

function kaimingStd(t: Tensor, options: KaimingOptions): number {
  const { a = 0, mode = "fan_in", nonlinearity = "leaky_relu" } = options;
  const { fanIn, fanOut } = calculateFans(t.shape);
  return calculateGain(nonlinearity, a) / Math.sqrt(mode === "fan_in" ? fanIn : fanOut);
}

/** He et al. (2015), uniform: U(−b, b) with b = gain · √(3 / fan). PyTorch's default for Linear and Conv2d uses a = √5. */
export function kaimingUniform_(t: Tensor, options: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd(t, options);
  return uniform_(t, -bound, bound, options);
}

/** He et al. (2015), normal: N(0, (gain / √fan)²). */
export function kaimingNormal_(t: Tensor, options: KaimingOptions = {}): Tensor {
  return normal_(t, 0, kaimingStd(t, options), options);
}

interface XavierOptions extends InitOptions {
  gain?: number;
}

/** Glorot & Bengio (2010), uniform: U(−b, b) with b = gain · √(6 / (fan_in + fan_out)). */
export function xavierUniform_(t: Tensor, options: XavierOptions = {}): Tensor {
  const { fanIn, fanOut } = calculateFans(t.shape);
  const bound = (options.gain ?? 1) * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -bound, bound, options);
}

/** Glorot & Bengio (2010), normal: N(0, gain² · 2 / (fan_in + fan_out)). */
export function xavierNormal_(t: Tensor, options: XavierOptions = {}): Tensor {
  const { fanIn, fanOut } = calculateFans(t.shape);
  return normal_(t, 0, (options.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut)), options);
}

import { avgPool2d, maxPool2d, type Tensor } from "@backprop/autograd";
import type { Pair } from "@backprop/tensor";
import { Module } from "../module.ts";

const fmt = (v: Pair) => (typeof v === "number" ? String(v) : `(${v[0]}, ${v[1]})`);

/** Max over k×k windows, as PyTorch's `nn.MaxPool2d(kernel_size, stride=kernel_size, padding=0, dilation=1)`. */
export class MaxPool2d extends Module {
  readonly stride: Pair;
  readonly padding: Pair;
  readonly dilation: Pair;

  constructor(readonly kernelSize: Pair, options: { stride?: Pair; padding?: Pair; dilation?: Pair } = {}) {
    super();
    this.stride = options.stride ?? kernelSize;
    this.padding = options.padding ?? 0;
    this.dilation = options.dilation ?? 1;
  }

  override forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding, dilation: this.dilation });
  }

  override extraRepr(): string {
    return `kernel_size=${fmt(this.kernelSize)}, stride=${fmt(this.stride)}, padding=${fmt(this.padding)}, dilation=${fmt(this.dilation)}`;
  }
}

/**
 * Mean over k×k windows, as PyTorch's `nn.AvgPool2d(kernel_size, stride=kernel_size, padding=0,
 * count_include_pad=True)`.
 */
export class AvgPool2d extends Module {
  readonly stride: Pair;
  readonly padding: Pair;
  readonly countIncludePad: boolean;

  constructor(readonly kernelSize: Pair, options: { stride?: Pair; padding?: Pair; countIncludePad?: boolean } = {}) {
    super();
    this.stride = options.stride ?? kernelSize;
    this.padding = options.padding ?? 0;
    this.countIncludePad = options.countIncludePad ?? true;
  }

  override forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, {
      stride: this.stride,
      padding: this.padding,
      countIncludePad: this.countIncludePad,
    });
  }

  override extraRepr(): string {
    return `kernel_size=${fmt(this.kernelSize)}, stride=${fmt(this.stride)}, padding=${fmt(this.padding)}`;
  }
}

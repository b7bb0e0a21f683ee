import { conv2d, type Tensor } from "@backprop/autograd";
import { type Pair, ShapeError, ValueError, zeros } from "@backprop/tensor";
import { kaimingUniform_, uniform_ } from "../init.ts";
import { Module } from "../module.ts";
import type { FactoryOptions } from "../options.ts";
import { Parameter } from "../parameter.ts";
import { fmtShape } from "../util.ts";

export interface Conv2dLayerOptions extends FactoryOptions {
  stride?: Pair;
  /** Zero padding on each side, or "valid" (none) / "same" (output size = input size, stride 1). */
  padding?: Pair | "valid" | "same";
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
}

const pairOf = (v: Pair): [number, number] => (typeof v === "number" ? [v, v] : [v[0], v[1]]);
const fmtPair = (v: Pair | string) => (typeof v === "string" ? `"${v}"` : `(${pairOf(v).join(", ")})`);

/**
 * 2-D convolution over [N, C, H, W] input, as PyTorch's `nn.Conv2d(in, out, kernel_size, stride, padding,
 * dilation, groups, bias)`. Weight [out, in / groups, kh, kw] from Kaiming-uniform with a = √5, bias from
 * U(−1/√fan_in, 1/√fan_in), fan_in = in / groups · kh · kw (PyTorch's defaults).
 */
export class Conv2d extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly kernelSize: [number, number];
  readonly stride: Pair;
  readonly padding: Pair | "valid" | "same";
  readonly dilation: Pair;
  readonly groups: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    options: Conv2dLayerOptions = {},
  ) {
    super();
    const { stride = 1, padding = 0, dilation = 1, groups = 1, dtype = "float32", device = "cpu", generator } = options;
    if (!Number.isInteger(groups) || groups < 1 || inChannels % groups || outChannels % groups) {
      throw new ValueError(
        `Conv2d: groups (${groups}) must be a positive integer dividing both inChannels (${inChannels}) and outChannels (${outChannels})`,
      );
    }
    this.kernelSize = pairOf(kernelSize);
    this.stride = stride;
    this.padding = padding;
    this.dilation = dilation;
    this.groups = groups;
    const [kh, kw] = this.kernelSize;
    this.weight = new Parameter(zeros([outChannels, inChannels / groups, kh, kw], { dtype, device }));
    kaimingUniform_(this.weight, { a: Math.sqrt(5), generator });
    this.bias = null;
    if (options.bias ?? true) {
      const fanIn = (inChannels / groups) * kh * kw;
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      this.bias = new Parameter(zeros([outChannels], { dtype, device }));
      uniform_(this.bias, -bound, bound, { generator });
    }
  }

  override forward(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== this.inChannels) {
      throw new ShapeError(
        `Conv2d: expected input [N, ${this.inChannels}, H, W], got ${fmtShape(x.shape)}`,
      );
    }
    return conv2d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }

  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${fmtPair(this.kernelSize)}, stride=${fmtPair(this.stride)}`;
    if (this.padding !== 0) s += `, padding=${fmtPair(this.padding)}`;
    if (this.dilation !== 1) s += `, dilation=${fmtPair(this.dilation)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (!this.bias) s += ", bias=False";
    return s;
  }
}

import type { Tensor } from "@backprop/autograd";
import { ShapeError } from "@backprop/tensor";
import { BatchNorm2d } from "../layers/batch_norm.ts";
import { Conv2d } from "../layers/conv2d.ts";
import { Linear } from "../layers/linear.ts";
import { AvgPool2d, MaxPool2d } from "../layers/pooling.ts";
import { Module } from "../module.ts";
import type { FactoryOptions } from "../options.ts";
import { fmtShape } from "../util.ts";

const conv = (inC: number, outC: number, o: FactoryOptions) => new Conv2d(inC, outC, 3, { stride: 1, padding: 1, ...o });
const pool = () => new MaxPool2d(3, { stride: 2, padding: 1 });

/**
 * The assignment's VGG-style network for 32×32 images: conv1 (→64), maxpool1, conv2 (→128), maxpool2,
 * conv3_a/conv3_b (→256), maxpool3, conv4_a/conv4_b (→512), maxpool4, conv5_a/conv5_b (→512), maxpool5,
 * avgpool, linear (512 → nClasses). Every conv is 3×3, stride 1, padding 1, followed by its BatchNorm2d
 * (bn1, bn2, bn3_a, …) and a ReLU; every maxpool is 3×3, stride 2, padding 1 (halving 32 → 16 → 8 → 4 → 2 → 1).
 * The field names are the state dict's prefixes, matching the PyTorch class in the README.
 */
export class ConvNet extends Module {
  conv1: Conv2d;
  bn1: BatchNorm2d;
  maxpool1: MaxPool2d;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  maxpool2: MaxPool2d;
  conv3_a: Conv2d;
  bn3_a: BatchNorm2d;
  conv3_b: Conv2d;
  bn3_b: BatchNorm2d;
  maxpool3: MaxPool2d;
  conv4_a: Conv2d;
  bn4_a: BatchNorm2d;
  conv4_b: Conv2d;
  bn4_b: BatchNorm2d;
  maxpool4: MaxPool2d;
  conv5_a: Conv2d;
  bn5_a: BatchNorm2d;
  conv5_b: Conv2d;
  bn5_b: BatchNorm2d;
  maxpool5: MaxPool2d;
  avgpool: AvgPool2d;
  linear: Linear;

  constructor(readonly nChannels: number, readonly nClasses: number, options: FactoryOptions = {}) {
    super();
    const { dtype, device } = options;
    const bn = (c: number) => new BatchNorm2d(c, { dtype, device });
    this.conv1 = conv(nChannels, 64, options);
    this.bn1 = bn(64);
    this.maxpool1 = pool();
    this.conv2 = conv(64, 128, options);
    this.bn2 = bn(128);
    this.maxpool2 = pool();
    this.conv3_a = conv(128, 256, options);
    this.bn3_a = bn(256);
    this.conv3_b = conv(256, 256, options);
    this.bn3_b = bn(256);
    this.maxpool3 = pool();
    this.conv4_a = conv(256, 512, options);
    this.bn4_a = bn(512);
    this.conv4_b = conv(512, 512, options);
    this.bn4_b = bn(512);
    this.maxpool4 = pool();
    this.conv5_a = conv(512, 512, options);
    this.bn5_a = bn(512);
    this.conv5_b = conv(512, 512, options);
    this.bn5_b = bn(512);
    this.maxpool5 = pool();
    this.avgpool = new AvgPool2d(1, { stride: 1, padding: 0 });
    this.linear = new Linear(512, nClasses, options);
  }

  /** Logits [N, nClasses] of images [N, nChannels, 32, 32] (any size up to 32×32: five poolings must reduce it to 1×1). */
  override forward(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== this.nChannels) {
      throw new ShapeError(`ConvNet: expected images [N, ${this.nChannels}, H, W], got ${fmtShape(x.shape)}`);
    }
    // Each 3×3/2/1 max pool maps a size s to ⌈s/2⌉ (the convolutions keep it), so checking first saves the
    // whole forward pass on images that would only fail at the classifier.
    const [height, width] = [x.shape[2]!, x.shape[3]!];
    const pooled = (s: number) => [1, 2, 3, 4, 5].reduce((v) => Math.ceil(v / 2), s);
    if (pooled(height) !== 1 || pooled(width) !== 1) {
      throw new ShapeError(
        `ConvNet: ${height}×${width} images leave ${pooled(height)}×${pooled(width)} maps after five poolings; ` +
          "the classifier needs 1×1 (use 32×32 images, or smaller)",
      );
    }
    const block = (c: Conv2d, b: BatchNorm2d, h: Tensor) => b.forward(c.forward(h)).relu();
    x = this.maxpool1.forward(block(this.conv1, this.bn1, x));
    x = this.maxpool2.forward(block(this.conv2, this.bn2, x));
    x = this.maxpool3.forward(block(this.conv3_b, this.bn3_b, block(this.conv3_a, this.bn3_a, x)));
    x = this.maxpool4.forward(block(this.conv4_b, this.bn4_b, block(this.conv4_a, this.bn4_a, x)));
    x = this.maxpool5.forward(block(this.conv5_b, this.bn5_b, block(this.conv5_a, this.bn5_a, x)));
    x = this.avgpool.forward(x);
    return this.linear.forward(x.flatten(1));
  }
}

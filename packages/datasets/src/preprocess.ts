/**
 * Preprocessing statistics and the per-pixel affine map from uint8 to float32.
 *
 * The course's preprocessing is "mean-image": subtract the per-pixel mean of the training images (3,072 means,
 * one per channel/row/column), no /255, no std scaling. "per-channel" is the modern alternative:
 * (x − mean_c) / std_c with the training set's channel statistics. "none" gives the raw 0–255 values as floats.
 */
import { ShapeError, ValueError } from "@backprop/tensor";
import { IMAGE_BYTES, IMAGE_CHANNELS, IMAGE_HEIGHT, IMAGE_WIDTH } from "./cifar_format.ts";

/** How images become floats. */
export type Normalization = "mean-image" | "per-channel" | "none";

/** Per-channel statistics (population std, like NumPy's `std()`), in R, G, B order. */
export interface ChannelStats {
  mean: [number, number, number];
  std: [number, number, number];
}

/** `out[p] = (x[p] − offset[p]) · scale[p]` for each of the 3,072 pixel positions. */
export interface PixelTransform {
  normalization: Normalization;
  offset: Float32Array;
  scale: Float32Array;
}

const PLANE = IMAGE_HEIGHT * IMAGE_WIDTH;

/**
 * The per-pixel mean image of `count` CHW uint8 images: summed exactly in integers, then divided once and
 * rounded to float32.
 */
export function meanImage(images: Uint8Array, count = images.length / IMAGE_BYTES): Float32Array {
  if (count === 0) throw new ValueError("meanImage: expected at least one image, got 0");
  const bytes = IMAGE_BYTES; // a local: bundlers may turn imported constants into property reads in the loop
  const sums = new Uint32Array(bytes); // 255 × 16.8 M images fit; CIFAR has 50,000
  for (let i = 0; i < count; i++) {
    const base = i * bytes;
    for (let p = 0; p < bytes; p++) sums[p] += images[base + p];
  }
  const mean = new Float32Array(IMAGE_BYTES);
  for (let p = 0; p < IMAGE_BYTES; p++) mean[p] = sums[p] / count;
  return mean;
}

/** Per-channel mean and std of `count` CHW uint8 images, exact via a per-channel histogram. */
export function channelStats(images: Uint8Array, count = images.length / IMAGE_BYTES): ChannelStats {
  if (count === 0) throw new ValueError("channelStats: expected at least one image, got 0");
  const bytes = IMAGE_BYTES, plane = PLANE;
  const histogram = new Float64Array(IMAGE_CHANNELS * 256);
  for (let i = 0; i < count; i++) {
    for (let c = 0; c < 3; c++) {
      const base = i * bytes + c * plane;
      const bin = c * 256;
      for (let p = 0; p < plane; p++) histogram[bin + images[base + p]]++;
    }
  }
  const mean = [0, 0, 0] as [number, number, number];
  const std = [0, 0, 0] as [number, number, number];
  const n = count * PLANE;
  for (let c = 0; c < IMAGE_CHANNELS; c++) {
    let sum = 0;
    for (let v = 0; v < 256; v++) sum += v * histogram[c * 256 + v];
    const m = sum / n;
    let squares = 0;
    for (let v = 0; v < 256; v++) squares += (v - m) * (v - m) * histogram[c * 256 + v];
    mean[c] = m;
    std[c] = Math.sqrt(squares / n);
  }
  return { mean, std };
}

/** The mean-image transform (the course's): subtract `mean`, scale 1. */
export function meanImageTransform(mean: Float32Array): PixelTransform {
  if (mean.length !== IMAGE_BYTES) {
    throw new ShapeError(`meanImageTransform: mean image has ${mean.length} values, expected ${IMAGE_BYTES}`);
  }
  return { normalization: "mean-image", offset: mean, scale: new Float32Array(IMAGE_BYTES).fill(1) };
}

/** The per-channel transform: (x − mean_c) / std_c. */
export function perChannelTransform(stats: ChannelStats): PixelTransform {
  const offset = new Float32Array(IMAGE_BYTES);
  const scale = new Float32Array(IMAGE_BYTES);
  for (let c = 0; c < IMAGE_CHANNELS; c++) {
    offset.fill(stats.mean[c], c * PLANE, (c + 1) * PLANE);
    scale.fill(1 / stats.std[c], c * PLANE, (c + 1) * PLANE);
  }
  return { normalization: "per-channel", offset, scale };
}

/** The identity transform: raw 0–255 values as floats. */
export function identityTransform(): PixelTransform {
  return {
    normalization: "none",
    offset: new Float32Array(IMAGE_BYTES),
    scale: new Float32Array(IMAGE_BYTES).fill(1),
  };
}

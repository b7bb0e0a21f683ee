// Turns a predictions.json sample image (base64 of CHW uint8 planes) into an inline PNG data URI.
import { Buffer } from "node:buffer";
import { encodePngRgb } from "./png.ts";

/** CIFAR-10 images are 3 × 32 × 32. */
export const IMAGE_CHANNELS = 3;
export const IMAGE_SIZE = 32;

/** Planar CHW (R plane, G plane, B plane) → interleaved HWC, the order PNG rows want. */
export function chwToHwc(chw: Uint8Array, channels: number, height: number, width: number): Uint8Array {
  const plane = height * width;
  const hwc = new Uint8Array(chw.length);
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < plane; i++) hwc[i * channels + c] = chw[c * plane + i];
  }
  return hwc;
}

/** A `data:image/png;base64,…` URI for one sample, or an Error saying what is wrong with its pixels. */
export function sampleImageDataUri(base64: string): string | Error {
  if (typeof base64 !== "string") return new Error("image is not a base64 string");
  const bytes = new Uint8Array(Buffer.from(base64, "base64"));
  const expected = IMAGE_CHANNELS * IMAGE_SIZE * IMAGE_SIZE;
  if (bytes.length !== expected) {
    return new Error(`image holds ${bytes.length} bytes, expected ${expected} (3×32×32 CHW uint8)`);
  }
  const png = encodePngRgb(IMAGE_SIZE, IMAGE_SIZE, chwToHwc(bytes, IMAGE_CHANNELS, IMAGE_SIZE, IMAGE_SIZE));
  return `data:image/png;base64,${Buffer.from(png).toString("base64")}`;
}

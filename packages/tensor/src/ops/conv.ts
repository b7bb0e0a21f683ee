import type { Conv2dParams, Pool2dParams } from "../backend.ts";
import { DTypeError, fmtShape, ShapeError, ValueError } from "../errors.ts";
import { NDArray } from "../ndarray.ts";
import { add } from "./elementwise.ts";
import { requireFloat, sameDevice } from "./operands.ts";

/** One size for both spatial dimensions, or [height, width]. */
export type Pair = number | readonly [number, number];

/** Options of `conv2d` and its backward functions (PyTorch's names and defaults). */
export interface Conv2dOptions {
  /** Step between windows (default 1). */
  stride?: Pair;
  /** Zero padding on each side, or "valid" (none) / "same" (output size = input size; stride 1 only). */
  padding?: Pair | "valid" | "same";
  /** Spacing of kernel taps (default 1). */
  dilation?: Pair;
  /** Channel groups; input and output channels must both divide by it (default 1). */
  groups?: number;
}

export function pair(op: string, name: string, v: Pair, min: number): [number, number] {
  const p: [number, number] = typeof v === "number" ? [v, v] : [v[0], v[1]];
  if (!p.every((x) => Number.isInteger(x) && x >= min)) {
    throw new ValueError(`${op}: ${name} must be ${min === 0 ? "a non-negative" : "a positive"} integer or a pair of them, got ${JSON.stringify(v)}`);
  }
  return p;
}

function check4d(op: string, name: string, x: NDArray | readonly number[]): void {
  const shape = x instanceof NDArray ? x.shape : x;
  if (shape.length !== 4) throw new ShapeError(`${op}: ${name} must be 4-D, got shape ${fmtShape(shape)}`);
}

function outSize(op: string, inSize: number, k: number, s: number, p: number, d: number): number {
  const o = Math.floor((inSize + 2 * p - d * (k - 1) - 1) / s) + 1;
  if (o <= 0) {
    throw new ShapeError(
      `${op}: the window (size ${k}, dilation ${d}) does not fit the input size ${inSize} with padding ${p}`,
    );
  }
  return o;
}

/** Resolves the sizes of a convolution of an input of `inputShape` with a weight of `weightShape`. */
export function conv2dParams(
  op: string,
  inputShape: readonly number[],
  weightShape: readonly number[],
  options: Conv2dOptions = {},
): Conv2dParams {
  const [n, c, h, w] = inputShape as [number, number, number, number];
  const [outC, cPerGroup, kh, kw] = weightShape as [number, number, number, number];
  const groups = options.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new ValueError(`${op}: groups must be a positive integer, got ${groups}`);
  const [strideH, strideW] = pair(op, "stride", options.stride ?? 1, 1);
  const [dilationH, dilationW] = pair(op, "dilation", options.dilation ?? 1, 1);
  let padH: number, padW: number;
  const padding = options.padding ?? 0;
  if (padding === "valid") [padH, padW] = [0, 0];
  else if (padding === "same") {
    if (strideH !== 1 || strideW !== 1) throw new ValueError(`${op}: padding "same" needs stride 1`);
    const totalH = dilationH * (kh - 1), totalW = dilationW * (kw - 1);
    if (totalH % 2 || totalW % 2) throw new ValueError(`${op}: padding "same" needs an odd effective kernel size`);
    [padH, padW] = [totalH / 2, totalW / 2];
  } else [padH, padW] = pair(op, "padding", padding, 0);
  if (c !== cPerGroup * groups) {
    throw new ShapeError(
      `${op}: input has ${c} channels but the weight ${fmtShape(weightShape)} expects ${cPerGroup * groups} ` +
        `(${cPerGroup} per group × ${groups} groups)`,
    );
  }
  if (outC % groups !== 0) throw new ShapeError(`${op}: ${outC} output channels do not split into ${groups} groups`);
  const oh = outSize(op, h, kh, strideH, padH, dilationH);
  const ow = outSize(op, w, kw, strideW, padW, dilationW);
  return { n, c, h, w, outC, kh, kw, oh, ow, strideH, strideW, padH, padW, dilationH, dilationW, groups };
}

function prepare(op: string, xs: NDArray[]): NDArray[] {
  sameDevice(op, ...xs);
  for (const x of xs) requireFloat(op, x);
  const dtype = xs[0]!.dtype;
  for (const x of xs) {
    if (x.dtype !== dtype) throw new DTypeError(`${op}: operands must share a dtype, got ${xs.map((y) => y.dtype).join(" and ")}`);
  }
  return xs.map((x) => x.contiguous());
}

function release(originals: NDArray[], used: NDArray[]): void {
  used.forEach((u, i) => u !== originals[i] && u.dispose());
}

/** 2-D cross-correlation (PyTorch's `conv2d`): input [N, C, H, W], weight [O, C / groups, KH, KW], bias [O]. */
export function conv2d(x: NDArray, weight: NDArray, bias?: NDArray | null, options: Conv2dOptions = {}): NDArray {
  check4d("conv2d", "input", x);
  check4d("conv2d", "weight", weight);
  const p = conv2dParams("conv2d", x.shape, weight.shape, options);
  const used = prepare("conv2d", [x, weight]);
  const out = new NDArray(x.backend.conv2d(used[0]!.storage, used[1]!.storage, p), [p.n, p.outC, p.oh, p.ow]);
  release([x, weight], used);
  if (!bias) return out;
  if (bias.ndim !== 1 || bias.shape[0] !== p.outC) {
    throw new ShapeError(`conv2d: bias must have shape [${p.outC}], got ${fmtShape(bias.shape)}`);
  }
  const b = bias.reshape([1, p.outC, 1, 1]);
  const withBias = add(out, b);
  out.dispose();
  b.dispose();
  return withBias;
}

/** Gradient of conv2d with respect to its input, of shape `inputShape`. */
export function conv2dBackwardInput(
  gradOut: NDArray,
  weight: NDArray,
  inputShape: readonly number[],
  options: Conv2dOptions = {},
): NDArray {
  check4d("conv2dBackwardInput", "inputShape", inputShape);
  check4d("conv2dBackwardInput", "weight", weight);
  const p = conv2dParams("conv2dBackwardInput", inputShape, weight.shape, options);
  checkGradOut("conv2dBackwardInput", gradOut, [p.n, p.outC, p.oh, p.ow]);
  const used = prepare("conv2dBackwardInput", [gradOut, weight]);
  const out = new NDArray(gradOut.backend.conv2dBackwardInput(used[0]!.storage, used[1]!.storage, p), inputShape);
  release([gradOut, weight], used);
  return out;
}

/** Gradient of conv2d with respect to its weight, of shape `weightShape`. */
export function conv2dBackwardWeight(
  x: NDArray,
  gradOut: NDArray,
  weightShape: readonly number[],
  options: Conv2dOptions = {},
): NDArray {
  check4d("conv2dBackwardWeight", "input", x);
  check4d("conv2dBackwardWeight", "weightShape", weightShape);
  const p = conv2dParams("conv2dBackwardWeight", x.shape, weightShape, options);
  checkGradOut("conv2dBackwardWeight", gradOut, [p.n, p.outC, p.oh, p.ow]);
  const used = prepare("conv2dBackwardWeight", [x, gradOut]);
  const out = new NDArray(x.backend.conv2dBackwardWeight(used[0]!.storage, used[1]!.storage, p), weightShape);
  release([x, gradOut], used);
  return out;
}

function checkGradOut(op: string, g: NDArray, shape: number[]): void {
  if (g.ndim !== 4 || g.shape.some((d, i) => d !== shape[i])) {
    throw new ShapeError(`${op}: the output gradient must have shape ${fmtShape(shape)}, got ${fmtShape(g.shape)}`);
  }
}

/** Options of the pooling functions (PyTorch's names and defaults). */
export interface Pool2dOptions {
  /** Defaults to the kernel size. */
  stride?: Pair;
  /** Implicit padding on each side, at most half the kernel (default 0). */
  padding?: Pair;
  /** maxPool2d only (average pooling has none, as in PyTorch). */
  dilation?: Pair;
  /** avgPool2d only (default true, as PyTorch): padded zeros count in the average. */
  countIncludePad?: boolean;
}

/** Resolves pooling sizes; padding may be at most half the kernel, as PyTorch requires. */
export function pool2dParams(op: string, inputShape: readonly number[], kernelSize: Pair, options: Pool2dOptions = {}): Pool2dParams {
  if (inputShape.length !== 4) throw new ShapeError(`${op}: input must be 4-D [N, C, H, W], got shape ${fmtShape(inputShape)}`);
  const [n, c, h, w] = inputShape as [number, number, number, number];
  const [kh, kw] = pair(op, "kernelSize", kernelSize, 1);
  const [strideH, strideW] = pair(op, "stride", options.stride ?? [kh, kw], 1);
  const [padH, padW] = pair(op, "padding", options.padding ?? 0, 0);
  const [dilationH, dilationW] = pair(op, "dilation", options.dilation ?? 1, 1);
  if (padH > kh / 2 || padW > kw / 2) {
    throw new ValueError(`${op}: padding ${padH}×${padW} must be at most half the kernel size ${kh}×${kw}`);
  }
  const oh = outSize(op, h, kh, strideH, padH, dilationH);
  const ow = outSize(op, w, kw, strideW, padW, dilationW);
  return {
    n, c, h, w, kh, kw, oh, ow, strideH, strideW, padH, padW, dilationH, dilationW,
    countIncludePad: options.countIncludePad ?? true,
  };
}

/** Max pooling; also returns, per output, the flat index (row · W + col) of the chosen input within its plane. */
export function maxPool2d(x: NDArray, kernelSize: Pair, options: Pool2dOptions = {}): { values: NDArray; indices: NDArray } {
  const p = pool2dParams("maxPool2d", x.shape, kernelSize, options);
  const [xc] = prepare("maxPool2d", [x]);
  const { out, indices } = x.backend.maxPool2d(xc!.storage, p);
  release([x], [xc!]);
  const shape = [p.n, p.c, p.oh, p.ow];
  return { values: new NDArray(out, shape), indices: new NDArray(indices, shape) };
}

/** Routes each output gradient to the input position `maxPool2d` chose (summing where windows overlap). */
export function maxPool2dBackward(
  gradOut: NDArray,
  indices: NDArray,
  inputShape: readonly number[],
  kernelSize: Pair,
  options: Pool2dOptions = {},
): NDArray {
  const p = pool2dParams("maxPool2dBackward", inputShape, kernelSize, options);
  checkGradOut("maxPool2dBackward", gradOut, [p.n, p.c, p.oh, p.ow]);
  if (indices.dtype !== "int32") throw new DTypeError(`maxPool2dBackward: indices must be int32, got ${indices.dtype}`);
  checkGradOut("maxPool2dBackward", indices, [p.n, p.c, p.oh, p.ow]);
  const [g] = prepare("maxPool2dBackward", [gradOut]);
  const idx = indices.contiguous();
  const out = new NDArray(gradOut.backend.maxPool2dBackward(g!.storage, idx.storage, p), inputShape);
  release([gradOut, indices], [g!, idx]);
  return out;
}

/** Average pooling (no dilation, as PyTorch's `avg_pool2d`). */
export function avgPool2d(x: NDArray, kernelSize: Pair, options: Pool2dOptions = {}): NDArray {
  rejectDilation("avgPool2d", options);
  const p = pool2dParams("avgPool2d", x.shape, kernelSize, options);
  const [xc] = prepare("avgPool2d", [x]);
  const out = new NDArray(x.backend.avgPool2d(xc!.storage, p), [p.n, p.c, p.oh, p.ow]);
  release([x], [xc!]);
  return out;
}

/** Gradient of `avgPool2d` with respect to its input (of shape `inputShape`). */
export function avgPool2dBackward(
  gradOut: NDArray,
  inputShape: readonly number[],
  kernelSize: Pair,
  options: Pool2dOptions = {},
): NDArray {
  rejectDilation("avgPool2dBackward", options);
  const p = pool2dParams("avgPool2dBackward", inputShape, kernelSize, options);
  checkGradOut("avgPool2dBackward", gradOut, [p.n, p.c, p.oh, p.ow]);
  const [g] = prepare("avgPool2dBackward", [gradOut]);
  const out = new NDArray(gradOut.backend.avgPool2dBackward(g!.storage, p), inputShape);
  release([gradOut], [g!]);
  return out;
}

function rejectDilation(op: string, options: Pool2dOptions): void {
  const d = options.dilation ?? 1;
  if (typeof d === "number" ? d !== 1 : d[0] !== 1 || d[1] !== 1) {
    throw new ValueError(`${op}: average pooling has no dilation, got ${JSON.stringify(d)}`);
  }
}

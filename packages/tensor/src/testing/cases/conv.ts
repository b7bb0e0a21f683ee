/** Conformance of `conv2d`, `conv2dBackwardInput` and `conv2dBackwardWeight`: stride, padding, dilation, groups, odd sizes. */
import fc from "fast-check";
import * as conv from "../../ops/conv.ts";
import { expectMatches } from "../compare.ts";
import { type CaseContext, type ConformanceCase, evaluate, propertyCase } from "../context.ts";
import { describe, inputArb, materialize, refOf } from "../arbitraries.ts";
import { refArray, refConv2d, refConv2dBackwardInput, refConv2dBackwardWeight, type RefWindow, windowOutSize } from "../reference.ts";

const pairArb = (min: number, max: number) => fc.tuple(fc.integer({ min, max }), fc.integer({ min, max }));

/** Sizes of one convolution; the input is made just large enough for the dilated window, plus a random margin. */
const geometryArb = fc.record({
  // Two images and several groups most of the time: accumulation across images and group offsets are where
  // kernels go wrong.
  n: fc.constantFrom(2, 1, 0, 2, 2),
  groups: fc.constantFrom(1, 2, 3, 3),
  cPerGroup: fc.integer({ min: 1, max: 3 }),
  oPerGroup: fc.integer({ min: 1, max: 2 }),
  kernel: pairArb(1, 3),
  stride: pairArb(1, 3),
  padding: pairArb(0, 2),
  dilation: pairArb(1, 2),
  margin: pairArb(0, 4),
  bias: fc.boolean(),
}).map((g) => {
  const size = (i: 0 | 1) => Math.max(1, g.dilation[i] * (g.kernel[i] - 1) + 1 - 2 * g.padding[i]) + g.margin[i];
  const win: RefWindow = { kernel: g.kernel, stride: g.stride, padding: g.padding, dilation: g.dilation };
  const h = size(0), w = size(1);
  const oh = windowOutSize(h, g.kernel[0], g.stride[0], g.padding[0], g.dilation[0]);
  const ow = windowOutSize(w, g.kernel[1], g.stride[1], g.padding[1], g.dilation[1]);
  const c = g.groups * g.cPerGroup, o = g.groups * g.oPerGroup;
  return {
    win,
    groups: g.groups,
    bias: g.bias,
    xShape: [g.n, c, h, w],
    wShape: [o, g.cPerGroup, g.kernel[0], g.kernel[1]],
    outShape: [g.n, o, oh, ow],
  };
});

export function convCases(ctx: CaseContext): ConformanceCase[] {
  const arb = fc.record({ dtype: fc.constantFrom(...ctx.floatDtypes), geometry: geometryArb }).chain(({ dtype, geometry }) =>
    fc.record({
      geometry: fc.constant(geometry),
      // Special values in the input only: a NaN or ∞ in the weight (forward) or the output gradient (weight
      // gradient) meets the zero padding, and whether 0 · NaN enters the sum there is up to the algorithm
      // (im2col multiplies the padding, a direct loop skips it).
      x: inputArb(geometry.xShape, dtype, { min: -2, max: 2, special: true }),
      w: inputArb(geometry.wShape, dtype, { min: -2, max: 2 }),
      gradOut: inputArb(geometry.outShape, dtype, { min: -2, max: 2 }),
      bias: inputArb([geometry.wShape[0]!], dtype, { min: -2, max: 2 }),
    })
  );
  return [
    propertyCase(ctx, "conv2d: forward and both backward kernels (stride, padding, dilation, groups, bias)", arb, async (c) => {
      const { win, groups } = c.geometry;
      const options: conv.Conv2dOptions = {
        stride: win.stride,
        // A single number where both sides agree, to cover that form too.
        padding: win.padding[0] === win.padding[1] ? win.padding[0] : win.padding,
        dilation: win.dilation,
        groups,
      };
      const xRef = refOf(c.x), wRef = refOf(c.w), gRef = refOf(c.gradOut), bRef = refOf(c.bias);
      let forward = refConv2d(xRef, wRef, win, groups);
      if (c.geometry.bias) {
        const [, o, oh, ow] = forward.shape as [number, number, number, number];
        forward = refArray(
          forward.shape,
          forward.dtype,
          forward.data.map((v, i) => v + bRef.data[Math.floor(i / (oh * ow)) % o]!),
          forward.mag!.map((v, i) => v + Math.abs(bRef.data[Math.floor(i / (oh * ow)) % o]!)),
        );
      }
      const dx = refConv2dBackwardInput(gRef, wRef, c.x.shape, win, groups);
      const dw = refConv2dBackwardWeight(xRef, gRef, c.w.shape, win, groups);
      const what = `x ${describe(c.x)}, weight ${describe(c.w)}, ${JSON.stringify(options)}`;
      await evaluate(
        () => {
          const x = materialize(c.x, ctx.device), w = materialize(c.w, ctx.device), g = materialize(c.gradOut, ctx.device);
          return [
            conv.conv2d(x, w, c.geometry.bias ? materialize(c.bias, ctx.device) : null, options),
            conv.conv2dBackwardInput(g, w, c.x.shape, options),
            conv.conv2dBackwardWeight(x, g, c.w.shape, options),
          ];
        },
        ([y, gx, gw], [yv, gxv, gwv]) => {
          expectMatches(`conv2d(${what}${c.geometry.bias ? ", bias" : ""})`, y!, yv!, forward, ctx.tolerance(forward.dtype, "conv2d"));
          expectMatches(`conv2dBackwardInput(${what}, gradOut ${describe(c.gradOut)})`, gx!, gxv!, dx, ctx.tolerance(dx.dtype, "conv2dBackwardInput"));
          expectMatches(`conv2dBackwardWeight(${what}, gradOut ${describe(c.gradOut)})`, gw!, gwv!, dw, ctx.tolerance(dw.dtype, "conv2dBackwardWeight"));
        },
      );
    }, ctx.numRuns * 2),
  ];
}

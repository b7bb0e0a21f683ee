/** Conformance of `maxPool2d`, `avgPool2d` and their backward kernels. */
import fc from "fast-check";
import * as conv from "../../ops/conv.ts";
import { expectMatches } from "../compare.ts";
import { type CaseContext, type ConformanceCase, evaluate, propertyCase, simpleCase } from "../context.ts";
import { describe, type InputSpec, inputArb, materialize, refOf } from "../arbitraries.ts";
import {
  refAvgPool2d,
  refAvgPool2dBackward,
  refMaxPool2d,
  refMaxPool2dBackward,
  type RefWindow,
  windowOutSize,
} from "../reference.ts";

const pairArb = (min: number, max: number) => fc.tuple(fc.integer({ min, max }), fc.integer({ min, max }));

/** Pooling sizes: padding at most half the kernel (PyTorch's rule); stride omitted means the kernel size. */
function geometryArb(dilated: boolean) {
  return fc.record({
    n: fc.integer({ min: 1, max: 2 }),
    c: fc.integer({ min: 1, max: 3 }),
    kernel: pairArb(1, 3),
    stride: fc.option(pairArb(1, 3), { nil: undefined }),
    padFraction: pairArb(0, 1),
    dilation: dilated ? pairArb(1, 2) : fc.constant<[number, number]>([1, 1]),
    margin: pairArb(0, 4),
    countIncludePad: fc.boolean(),
  }).map((g) => {
    const padding: [number, number] = [g.padFraction[0] * Math.floor(g.kernel[0] / 2), g.padFraction[1] * Math.floor(g.kernel[1] / 2)];
    const stride = g.stride ?? g.kernel;
    const win: RefWindow = { kernel: g.kernel, stride, padding, dilation: g.dilation };
    const size = (i: 0 | 1) => Math.max(1, g.dilation[i] * (g.kernel[i] - 1) + 1 - 2 * padding[i]) + g.margin[i];
    const h = size(0), w = size(1);
    const oh = windowOutSize(h, g.kernel[0], stride[0], padding[0], g.dilation[0]);
    const ow = windowOutSize(w, g.kernel[1], stride[1], padding[1], g.dilation[1]);
    const options: conv.Pool2dOptions = { padding, countIncludePad: g.countIncludePad };
    if (g.stride) options.stride = g.stride;
    if (dilated) options.dilation = g.dilation;
    return { win, options, countIncludePad: g.countIncludePad, xShape: [g.n, g.c, h, w], outShape: [g.n, g.c, oh, ow] };
  });
}

function poolArb(ctx: CaseContext, dilated: boolean) {
  return fc.record({ dtype: fc.constantFrom(...ctx.floatDtypes), geometry: geometryArb(dilated) }).chain(({ dtype, geometry }) =>
    fc.record({
      geometry: fc.constant(geometry),
      // Few distinct values, so windows often hold ties.
      x: inputArb(geometry.xShape, dtype, { min: -3, max: 3, special: true }),
      gradOut: inputArb(geometry.outShape, dtype, { min: -2, max: 2, special: true }),
    })
  );
}

/**
 * A 6×16 plane (input and output large enough for the CPU's kernel memory) where most 2×2 windows hold a NaN,
 * often two: a random draw rarely puts several NaN in one window of a row long enough for a backend's
 * four-windows-at-a-time path, where the last NaN must still win.
 */
const SEVERAL_NAN_PLANE = Array.from({ length: 96 }, (_, i) => (i % 3 === 0 || i % 5 === 0 ? NaN : i % 7));

export function poolCases(ctx: CaseContext): ConformanceCase[] {
  return [
    simpleCase(ctx, "maxPool2d: windows holding several NaN give the last NaN's index", async () => {
      for (const dtype of ctx.floatDtypes) {
        const x: InputSpec = { shape: [1, 1, 6, 16], dtype, layout: { kind: "contiguous" }, base: SEVERAL_NAN_PLANE };
        const win: RefWindow = { kernel: [2, 2], stride: [1, 1], padding: [0, 0], dilation: [1, 1] };
        const forward = refMaxPool2d(refOf(x), win);
        await evaluate(
          () => {
            const { values, indices } = conv.maxPool2d(materialize(x, ctx.device), win.kernel, { stride: 1 });
            return [values, indices];
          },
          ([v, i], [vv, iv]) => {
            expectMatches(`maxPool2d(${describe(x)}, kernel 2,2, stride 1).values`, v!, vv!, forward.values, { rtol: 0, atol: 0 });
            expectMatches(`maxPool2d(${describe(x)}, kernel 2,2, stride 1).indices`, i!, iv!, forward.indices, { rtol: 0, atol: 0 });
          },
        );
      }
    }),
    propertyCase(ctx, "maxPool2d: values, argmax indices (first on ties) and backward", poolArb(ctx, true), async (c) => {
      const { win, options } = c.geometry;
      const forward = refMaxPool2d(refOf(c.x), win);
      const backward = refMaxPool2dBackward(refOf(c.gradOut), forward.indices, c.x.shape);
      const what = `${describe(c.x)}, kernel ${win.kernel}, ${JSON.stringify(options)}`;
      await evaluate(
        () => {
          const { values, indices } = conv.maxPool2d(materialize(c.x, ctx.device), win.kernel, options);
          const grad = conv.maxPool2dBackward(materialize(c.gradOut, ctx.device), indices, c.x.shape, win.kernel, options);
          return [values, indices, grad];
        },
        ([v, i, g], [vv, iv, gv]) => {
          expectMatches(`maxPool2d(${what}).values`, v!, vv!, forward.values, { rtol: 0, atol: 0 });
          expectMatches(`maxPool2d(${what}).indices`, i!, iv!, forward.indices, { rtol: 0, atol: 0 });
          expectMatches(`maxPool2dBackward(${what})`, g!, gv!, backward, ctx.tolerance(backward.dtype, "maxPool2dBackward"));
        },
      );
    }),
    propertyCase(ctx, "avgPool2d: forward and backward, countIncludePad both ways", poolArb(ctx, false), async (c) => {
      const { win, options, countIncludePad } = c.geometry;
      const forward = refAvgPool2d(refOf(c.x), win, countIncludePad);
      const backward = refAvgPool2dBackward(refOf(c.gradOut), c.x.shape, win, countIncludePad);
      const what = `${describe(c.x)}, kernel ${win.kernel}, ${JSON.stringify(options)}`;
      await evaluate(
        () => [
          conv.avgPool2d(materialize(c.x, ctx.device), win.kernel, options),
          conv.avgPool2dBackward(materialize(c.gradOut, ctx.device), c.x.shape, win.kernel, options),
        ],
        ([y, g], [yv, gv]) => {
          expectMatches(`avgPool2d(${what})`, y!, yv!, forward, ctx.tolerance(forward.dtype, "avgPool2d"));
          expectMatches(`avgPool2dBackward(${what})`, g!, gv!, backward, ctx.tolerance(backward.dtype, "avgPool2dBackward"));
        },
      );
    }),
  ];
}

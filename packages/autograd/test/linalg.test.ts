import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { Conv2dOptions } from "@backprop/tensor";
import * as ag from "../src/mod.ts";
import { check, distinctValuesArb, inputArb, layoutArb, leaf, smooth, toLeaf, valuesArb } from "./helpers.ts";

const RUNS = { numRuns: 15 };
const dim = fc.integer({ min: 1, max: 3 });

describe("matmul", () => {
  /** Operand shapes for one of PyTorch's matmul cases, inner sizes matching. */
  const shapesArb = fc.tuple(dim, dim, dim, dim, dim).chain(([m, k, n, b1, b2]) =>
    fc.constantFrom<[number[], number[]]>(
      [[k], [k]], // dot product
      [[k], [k, n]], // vector · matrix
      [[m, k], [k]], // matrix · vector
      [[m, k], [k, n]],
      [[b1, m, k], [b1, k, n]], // batched
      [[b1, m, k], [k, n]], // batched · shared matrix
      [[m, k], [b1, k, n]],
      [[b1, 1, m, k], [b2, k, n]], // batch dims broadcast
      [[k], [b1, k, n]], // vector · batch
      [[b1, m, k], [k]],
    )
  );
  test("1-D, 2-D, batched and broadcast operands", () => {
    fc.assert(
      fc.property(
        shapesArb.chain(([sa, sb]) => fc.tuple(inputArb(fc.constant(sa)), inputArb(fc.constant(sb)), fc.constantFrom("both", "a", "b"))),
        ([a, b, which]) => {
          check((x, y) => ag.matmul(x, y), [toLeaf(a, which !== "b"), toLeaf(b, which !== "a")]);
        },
      ),
      RUNS,
    );
  });

  test("a dot product of two vectors is a scalar", () => {
    const a = leaf([1, 2, 3], [3]);
    const b = leaf([4, 5, 6], [3]);
    const c = a.matmul(b);
    expect(c.shape).toEqual([]);
    c.backward();
    expect(Array.from(a.grad!.dataSync())).toEqual([4, 5, 6]);
    expect(Array.from(b.grad!.dataSync())).toEqual([1, 2, 3]);
  });
});

/** Random conv2d geometry whose output is at least 1×1. */
const convArb = fc.record({
  n: fc.integer({ min: 1, max: 2 }),
  groups: fc.integer({ min: 1, max: 2 }),
  cPerGroup: fc.integer({ min: 1, max: 2 }),
  outPerGroup: fc.integer({ min: 1, max: 2 }),
  kh: dim,
  kw: dim,
  stride: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
  dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
  padding: fc.oneof(fc.tuple(fc.nat(2), fc.nat(2)), fc.constantFrom("valid" as const, "same" as const)),
  extraH: fc.nat(2),
  extraW: fc.nat(2),
  bias: fc.boolean(),
}).map((g) => {
  // "same" needs stride 1 and an odd effective kernel: fall back to explicit padding otherwise.
  const same = g.padding === "same" && g.stride[0] === 1 && g.stride[1] === 1 &&
    (g.dilation[0] * (g.kh - 1)) % 2 === 0 && (g.dilation[1] * (g.kw - 1)) % 2 === 0;
  const padding: NonNullable<Conv2dOptions["padding"]> = g.padding === "same" ? (same ? "same" : [1, 0]) : g.padding;
  const [ph, pw] = padding === "valid"
    ? [0, 0]
    : padding === "same"
    ? [g.dilation[0] * (g.kh - 1) / 2, g.dilation[1] * (g.kw - 1) / 2]
    : typeof padding === "number"
    ? [padding, padding]
    : padding;
  // The smallest input the (dilated) window fits in, plus a little.
  const h = Math.max(1, g.dilation[0] * (g.kh - 1) + 1 - 2 * ph) + g.extraH;
  const w = Math.max(1, g.dilation[1] * (g.kw - 1) + 1 - 2 * pw) + g.extraW;
  const c = g.cPerGroup * g.groups, o = g.outPerGroup * g.groups;
  return {
    x: [g.n, c, h, w],
    weight: [o, g.cPerGroup, g.kh, g.kw],
    bias: g.bias ? [o] : null,
    options: { stride: g.stride, padding, dilation: g.dilation, groups: g.groups },
  };
});

describe("conv2d", () => {
  test("input, weight and bias gradients with stride, padding, dilation and groups", () => {
    const arb = convArb.chain((geometry) =>
      fc.tuple(
        fc.constant(geometry),
        inputArb(fc.constant(geometry.x)),
        inputArb(fc.constant(geometry.weight)),
        valuesArb(geometry.bias ? geometry.bias[0]! : 0),
        layoutArb,
      )
    );
    fc.assert(
      fc.property(arb, ([geometry, x, w, b]) => {
        const inputs = [toLeaf(x), toLeaf(w)];
        if (geometry.bias) inputs.push(leaf(b, geometry.bias));
        check((x, w, b) => ag.conv2d(x, w, b, geometry.options), inputs);
      }),
      RUNS,
    );
  });

  test("only the weight requires a gradient (the input is data)", () => {
    fc.assert(
      fc.property(convArb.chain((g) => fc.tuple(fc.constant(g), inputArb(fc.constant(g.x)), inputArb(fc.constant(g.weight)))), ([g, x, w]) => {
        check((x, w) => ag.conv2d(x, w, null, g.options), [toLeaf(x, false), toLeaf(w)]);
      }),
      { numRuns: 5 },
    );
  });
});

/** Whether every pooling window along one axis covers at least one input position (not only padding). */
function windowsTouchInput(size: number, k: number, stride: number, pad: number, dilation: number): boolean {
  const out = Math.floor((size + 2 * pad - dilation * (k - 1) - 1) / stride) + 1;
  for (let o = 0; o < out; o++) {
    const taps = Array.from({ length: k }, (_, j) => o * stride - pad + j * dilation);
    if (!taps.some((t) => t >= 0 && t < size)) return false;
  }
  return true;
}

/**
 * Random pooling geometry: kernel 1–3, stride 1–3, padding ≤ kernel / 2, dilation 1–2 when `dilated` (max
 * pooling; average pooling has none, as in PyTorch), output ≥ 1×1.
 */
const poolArb = (dilated: boolean) => fc.record({
  n: fc.integer({ min: 1, max: 2 }),
  c: fc.integer({ min: 1, max: 2 }),
  kh: dim,
  kw: dim,
  stride: fc.option(fc.tuple(dim, dim), { nil: undefined }),
  padFraction: fc.tuple(fc.boolean(), fc.boolean()),
  dilation: dilated ? fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })) : fc.constant([1, 1] as [number, number]),
  extraH: fc.nat(3),
  extraW: fc.nat(3),
  countIncludePad: fc.boolean(),
}).map((g) => {
  const padding: [number, number] = [g.padFraction[0] ? Math.floor(g.kh / 2) : 0, g.padFraction[1] ? Math.floor(g.kw / 2) : 0];
  const h = Math.max(1, g.dilation[0] * (g.kh - 1) + 1 - 2 * padding[0]) + g.extraH;
  const w = Math.max(1, g.dilation[1] * (g.kw - 1) + 1 - 2 * padding[1]) + g.extraW;
  return {
    shape: [g.n, g.c, h, w],
    // A dilated window can fall entirely into the padding (max −∞, or an average over nothing without
    // countIncludePad); such geometries are filtered out below as they have no gradient to check.
    fits: windowsTouchInput(h, g.kh, g.stride?.[0] ?? g.kh, padding[0], g.dilation[0]) &&
      windowsTouchInput(w, g.kw, g.stride?.[1] ?? g.kw, padding[1], g.dilation[1]),
    kernel: [g.kh, g.kw] as [number, number],
    options: { stride: g.stride, padding, ...(dilated ? { dilation: g.dilation } : {}), countIncludePad: g.countIncludePad },
  };
}).filter((g) => g.fits);

describe("pooling", () => {
  // maxPool2d: all input values distinct and ≥ 0.1 apart (≫ 2·eps), so each window's maximum is unique and
  // stays the maximum under a ±eps nudge. Overlapping windows (stride < kernel) may pick the same input; its
  // gradient then sums.
  test("maxPool2d (and maxPool2dWithIndices)", () => {
    fc.assert(
      fc.property(poolArb(true).chain((g) => fc.tuple(fc.constant(g), inputArb(fc.constant(g.shape), distinctValuesArb))), ([g, spec]) => {
        check((x) => ag.maxPool2d(x, g.kernel, g.options), [toLeaf(spec)]);
        check((x) => ag.maxPool2dWithIndices(x, g.kernel, g.options).values, [toLeaf(spec)]);
        check((x) => x.maxPool2d(g.kernel, g.options), [toLeaf(spec)]);
      }),
      RUNS,
    );
  });

  test("maxPool2dWithIndices: the indices are int32 without a graph, and point at the chosen inputs", () => {
    const x = leaf([1, 5, 2, 0, 3, 4, 7, 6, 8, 9, 11, 10, 15, 14, 13, 12], [1, 1, 4, 4]);
    const { values, indices } = ag.maxPool2dWithIndices(x, 2);
    expect(indices.dtype).toBe("int32");
    expect(Array.from(values.dataSync())).toEqual([5, 7, 15, 13]);
    expect(Array.from(indices.dataSync())).toEqual([1, 6, 12, 14]);
    expect(values.gradFn?.name).toBe("maxPool2d");
  });

  test("avgPool2d with padding counted in the average or not", () => {
    fc.assert(
      fc.property(poolArb(false).chain((g) => fc.tuple(fc.constant(g), inputArb(fc.constant(g.shape), smooth))), ([g, spec]) => {
        check((x) => ag.avgPool2d(x, g.kernel, g.options), [toLeaf(spec)]);
        check((x) => x.avgPool2d(g.kernel, { ...g.options, countIncludePad: !g.options.countIncludePad }), [toLeaf(spec)]);
      }),
      RUNS,
    );
  });
});

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import * as ag from "../src/mod.ts";
import type { Tensor } from "../src/mod.ts";
import { awayFromZero, check, dimsArb, distinctValuesArb, inputArb, leaf, shapeArb, sizeOf, toLeaf } from "./helpers.ts";

const RUNS = { numRuns: 20 };
type Dims = number | number[] | undefined;

/** A leaf spec together with random reduction dims for its rank and a keepdim flag. */
const reductionArb = (element: Parameters<typeof inputArb>[1], minRank = 0) =>
  inputArb(shapeArb(minRank, 3, 3), element).chain((spec) => fc.tuple(fc.constant(spec), dimsArb(spec.shape.length), fc.boolean()));

/** How many elements `dims` reduces together. */
function reducedCount(shape: readonly number[], dims: Dims): number {
  if (dims === undefined) return sizeOf(shape);
  const axes = (typeof dims === "number" ? [dims] : dims).map((d) => (d < 0 ? d + shape.length : d));
  return axes.reduce((n, a) => n * shape[a]!, 1);
}

describe("reductions over random dims, with and without keepdim", () => {
  const smoothCases: [string, (x: Tensor, dims: Dims, keepdim: boolean) => Tensor][] = [
    ["sum", (x, d, k) => ag.sum(x, d, k)],
    ["mean", (x, d, k) => x.mean(d, k)],
  ];
  for (const [name, op] of smoothCases) {
    test(name, () => {
      fc.assert(fc.property(reductionArb(undefined), ([spec, dims, keepdim]) => check((x) => op(x, dims, keepdim), [toLeaf(spec)])), RUNS);
    });
  }

  test("logSumExp (its dims are required; -1 by default)", () => {
    fc.assert(
      fc.property(reductionArb(undefined, 1), ([spec, dims, keepdim]) => {
        check((x) => ag.logSumExp(x, dims ?? -1, keepdim), [toLeaf(spec)]);
        check((x) => x.logSumExp(), [toLeaf(spec)]);
      }),
      RUNS,
    );
  });

  // prod's gradient is out / x: values ±(0.1 + u) keep x away from 0, where that quotient is undefined.
  test("prod", () => {
    fc.assert(fc.property(reductionArb(awayFromZero), ([spec, dims, keepdim]) => check((x) => x.prod(dims, keepdim), [toLeaf(spec)])), RUNS);
  });

  // Distinct values spaced ≥ 0.1 apart (≫ 2·eps): the extreme of every slice is unique and stays the extreme
  // under a ±eps nudge, so the finite difference sees a smooth function.
  for (const name of ["max", "min"] as const) {
    test(name, () => {
      fc.assert(
        fc.property(reductionArb(distinctValuesArb), ([spec, dims, keepdim]) => {
          check((x) => (name === "max" ? ag.max(x, dims, keepdim) : x.min(dims, keepdim)), [toLeaf(spec)]);
        }),
        RUNS,
      );
    });
  }

  test("var, with correction 0 or 1", () => {
    fc.assert(
      fc.property(reductionArb(undefined), fc.constantFrom(0, 1), ([spec, dims, keepdim], correction) => {
        // With a single element per slice and correction 1 the divisor is 0 (inf/NaN, as PyTorch): not a gradient test.
        fc.pre(reducedCount(spec.shape, dims) > correction);
        check((x) => ag.variance(x, dims, { correction, keepdim }), [toLeaf(spec)]);
        check((x) => x.var(dims, { correction, keepdim }), [toLeaf(spec)]);
      }),
      RUNS,
    );
  });

  test("max/min share the gradient equally among ties (as PyTorch's amax)", () => {
    const x = leaf([1, 3, 3, 2, 0, 0], [2, 3]);
    ag.max(x, 1).sum().backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([0, 0.5, 0.5, 1, 0, 0]);
    const y = leaf([1, 3, 3, 2, 0, 0], [2, 3]);
    ag.min(y).backward();
    expect(Array.from(y.grad!.dataSync())).toEqual([0, 0, 0, 0, 0.5, 0.5]);
  });

  test("argmax/argmin give int tensors without a graph", () => {
    const x = leaf([1, 3, 2, 0], [2, 2]);
    for (const out of [x.argmax(), x.argmin(1), ag.argmax(x, 0, true), ag.argmin(x)]) {
      expect(out.dtype).toBe("int32");
      expect(out.requiresGrad).toBe(false);
    }
  });
});

describe("softmax and logSoftmax", () => {
  for (const name of ["softmax", "logSoftmax"] as const) {
    test(`${name} along a random dim`, () => {
      fc.assert(
        fc.property(inputArb(shapeArb(1, 3, 4)).chain((spec) => fc.tuple(fc.constant(spec), fc.integer({ min: -spec.shape.length, max: spec.shape.length - 1 }))), ([spec, dim]) => {
          check((x) => (name === "softmax" ? ag.softmax(x, dim) : x.logSoftmax(dim)), [toLeaf(spec)]);
        }),
        RUNS,
      );
    });
  }

  test("logSoftmax stays finite and differentiable for large logits", () => {
    const x = leaf([1000, 0, -1000, 500], [1, 4]);
    const out = ag.logSoftmax(x);
    expect(Array.from(out.dataSync()).every(Number.isFinite)).toBe(true);
    check((x) => ag.logSoftmax(x), [x]);
  });
});

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import * as T from "@backprop/tensor";
import * as ag from "../src/mod.ts";
import type { Tensor } from "../src/mod.ts";
import { check, inputArb, leaf, shapeArb, sizeOf, toLeaf } from "./helpers.ts";

const RUNS = { numRuns: 20 };

/** int32 indices in [0, bound) of `shape` (repeats allowed, so gradients must accumulate). */
const indicesArb = (shape: number[], bound: number) =>
  fc.array(fc.nat(bound - 1), { minLength: sizeOf(shape), maxLength: sizeOf(shape) })
    .map((values) => T.tensor(values, { shape, dtype: "int32" }));

/** An index either as an NDArray or wrapped in a Tensor; both are accepted. */
const asEither = (index: T.NDArray, wrap: boolean): Tensor | T.NDArray => (wrap ? ag.tensor(index) : index);

/** A leaf spec of rank 1–3, a dim, and an index shape equal to the input's except along that dim. */
const alongDimArb = inputArb(shapeArb(1, 3, 3)).chain((spec) =>
  fc.integer({ min: -spec.shape.length, max: spec.shape.length - 1 }).chain((dim) => {
    const d = dim < 0 ? dim + spec.shape.length : dim;
    return fc.integer({ min: 1, max: 4 }).chain((len) => {
      const indexShape = spec.shape.map((s, i) => (i === d ? len : s));
      return fc.tuple(fc.constant(spec), fc.constant(dim), indicesArb(indexShape, spec.shape[d]!), indicesArb([len], spec.shape[d]!), fc.boolean());
    });
  })
);

describe("gather, indexSelect, scatterAdd, indexAdd", () => {
  test("gather", () => {
    fc.assert(
      fc.property(alongDimArb, ([spec, dim, index, , wrap]) => {
        check((x) => ag.gather(x, dim, asEither(index, wrap)), [toLeaf(spec)]);
        check((x) => x.gather(dim, index), [toLeaf(spec)]);
      }),
      RUNS,
    );
  });

  test("indexSelect", () => {
    fc.assert(
      fc.property(alongDimArb, ([spec, dim, , index, wrap]) => {
        check((x) => ag.indexSelect(x, dim, asEither(index, wrap)), [toLeaf(spec)]);
        check((x) => x.indexSelect(dim, index), [toLeaf(spec)]);
      }),
      RUNS,
    );
  });

  test("scatterAdd: gradients to the input and to the source", () => {
    const arb = alongDimArb.chain(([spec, dim, index, , wrap]) =>
      fc.tuple(fc.constant(spec), fc.constant(dim), fc.constant(index), inputArb(fc.constant([...index.shape])), fc.boolean(), fc.constant(wrap))
    );
    fc.assert(
      fc.property(arb, ([spec, dim, index, src, inputGrad, wrap]) => {
        check((x, s) => ag.scatterAdd(x, dim, asEither(index, wrap), s), [toLeaf(spec, inputGrad), toLeaf(src)]);
      }),
      RUNS,
    );
  });

  test("indexAdd: gradients to the input and to the source", () => {
    const arb = alongDimArb.chain(([spec, dim, , index, wrap]) => {
      const d = dim < 0 ? dim + spec.shape.length : dim;
      const srcShape = spec.shape.map((s, i) => (i === d ? index.shape[0]! : s));
      return fc.tuple(fc.constant(spec), fc.constant(dim), fc.constant(index), inputArb(fc.constant(srcShape)), fc.boolean(), fc.constant(wrap));
    });
    fc.assert(
      fc.property(arb, ([spec, dim, index, src, inputGrad, wrap]) => {
        check((x, s) => ag.indexAdd(x, dim, asEither(index, wrap), s), [toLeaf(spec, inputGrad), toLeaf(src)]);
      }),
      RUNS,
    );
  });

  test("a repeated index sends the gradient back once per use", () => {
    const x = leaf([10, 20, 30], [3]);
    ag.indexSelect(x, 0, T.tensor([2, 0, 2, 2], { dtype: "int32" })).sum().backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([1, 0, 3]);
  });
});

describe("concat, stack, split", () => {
  /** 1–3 leaf specs sharing a shape except along `dim`. */
  const joinArb = shapeArb(1, 3, 3).chain((shape) =>
    fc.integer({ min: -shape.length, max: shape.length - 1 }).chain((dim) => {
      const d = dim < 0 ? dim + shape.length : dim;
      const part = fc.integer({ min: 0, max: 3 }).chain((len) => inputArb(fc.constant(shape.map((s, i) => (i === d ? len : s)))));
      return fc.tuple(fc.constant(dim), fc.array(fc.tuple(part, fc.boolean()), { minLength: 1, maxLength: 3 }));
    })
  );

  test("concat, with parts of length 0 and parts that need no gradient", () => {
    fc.assert(
      fc.property(joinArb, ([dim, parts]) => {
        // At least one part requires a gradient.
        const leaves = parts.map(([spec, grad], i) => toLeaf(spec, grad || i === 0));
        check((...xs) => ag.concat(xs, dim), leaves);
      }),
      RUNS,
    );
  });

  test("stack along a new dim (negative too)", () => {
    const arb = inputArb(shapeArb(0, 3, 3)).chain((first) =>
      fc.tuple(
        fc.array(inputArb(fc.constant(first.shape)), { minLength: 0, maxLength: 2 }).map((rest) => [first, ...rest]),
        fc.integer({ min: -first.shape.length - 1, max: first.shape.length }),
      )
    );
    fc.assert(fc.property(arb, ([specs, dim]) => check((...xs) => ag.stack(xs, dim), specs.map((s) => toLeaf(s)))), RUNS);
  });

  test("split into a size or a list of sizes; each part's gradient lands in its own slice", () => {
    const arb = inputArb(shapeArb(1, 3, 5)).chain((spec) =>
      fc.integer({ min: -spec.shape.length, max: spec.shape.length - 1 }).chain((dim) => {
        const n = spec.shape[dim < 0 ? dim + spec.shape.length : dim]!;
        const sizes = fc.array(fc.nat(n), { minLength: 1, maxLength: 3 }).map((cuts) => {
          // Cut points in [0, n] give sizes that add up to n (some may be 0).
          const points = [0, ...cuts.sort((a, b) => a - b), n];
          return points.slice(1).map((p, i) => p - points[i]!);
        });
        return fc.tuple(fc.constant(spec), fc.constant(dim), fc.oneof(fc.integer({ min: 1, max: n }), sizes));
      })
    );
    fc.assert(
      fc.property(arb, ([spec, dim, sizes]) => {
        // Weighting part i by i + 1 makes a gradient routed to the wrong part show up.
        check((x) => ag.concat(ag.split(x, sizes, dim).map((p, i) => p.mul(i + 1)), dim), [toLeaf(spec)]);
      }),
      RUNS,
    );
  });
});

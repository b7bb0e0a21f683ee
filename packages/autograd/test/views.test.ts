import fc from "fast-check";
import { describe, expect, test } from "vitest";
import * as T from "@backprop/tensor";
import * as ag from "../src/mod.ts";
import { check, type InputSpec, inputArb, leaf, shapeArb, toLeaf } from "./helpers.ts";

const RUNS = { numRuns: 20 };

/** A leaf spec of rank `minRank…maxRank` and something drawn from its shape. */
const withShape = <U>(minRank: number, maxRank: number, maxDim: number, f: (shape: number[]) => fc.Arbitrary<U>) =>
  inputArb(shapeArb(minRank, maxRank, maxDim)).chain((spec) => fc.tuple(fc.constant(spec), f(spec.shape)));

const axisArb = (rank: number) => fc.integer({ min: -rank, max: rank - 1 });

describe("view ops on contiguous and non-contiguous leaves", () => {
  test("reshape / view to a shuffled factorisation, with -1 and inserted 1s", () => {
    const target = (shape: number[]) =>
      fc.tuple(fc.shuffledSubarray(shape, { minLength: shape.length, maxLength: shape.length }), fc.nat(shape.length), fc.boolean())
        .map(([dims, at, inferOne]) => {
          const t: number[] = [...dims];
          t.splice(at, 0, 1);
          if (inferOne && t.length) t[0] = -1;
          return t;
        });
    fc.assert(
      fc.property(withShape(0, 3, 3, target), ([spec, shape]) => {
        check((x) => ag.reshape(x, shape), [toLeaf(spec)]);
        check((x) => x.view(...shape).mul(x.view(shape)), [toLeaf(spec)]);
      }),
      RUNS,
    );
  });

  test("permute (negative dims too) and transpose", () => {
    const perm = (shape: number[]) => {
      const axes = shape.map((_, i) => i);
      return fc.tuple(fc.shuffledSubarray(axes, { minLength: axes.length, maxLength: axes.length }), fc.boolean(), axisArb(shape.length), axisArb(shape.length))
        .map(([p, neg, a, b]) => ({ dims: neg ? p.map((d) => d - shape.length) : p, a, b }));
    };
    fc.assert(
      fc.property(withShape(1, 4, 3, perm), ([spec, { dims, a, b }]) => {
        check((x) => ag.permute(x, dims), [toLeaf(spec)]);
        check((x) => x.permute(...dims).mul(2), [toLeaf(spec)]);
        check((x) => ag.transpose(x, a, b), [toLeaf(spec)]);
        if (spec.shape.length <= 2) check((x) => x.T, [toLeaf(spec)]);
        else expect(() => toLeaf(spec).T).toThrow(/T: needs rank ≤ 2/);
      }),
      RUNS,
    );
  });

  test("narrow (negative start too)", () => {
    const args = (shape: number[]) =>
      axisArb(shape.length).chain((dim) => {
        const n = shape[dim < 0 ? dim + shape.length : dim]!;
        return fc.integer({ min: 0, max: n - 1 }).chain((start) =>
          fc.tuple(fc.constant(dim), fc.constantFrom(start, start - n), fc.integer({ min: 0, max: n - start }))
        );
      });
    fc.assert(
      fc.property(withShape(1, 3, 4, args), ([spec, [dim, start, length]]) => {
        check((x) => ag.narrow(x, dim, start, length), [toLeaf(spec)]);
      }),
      RUNS,
    );
  });

  test("slice with steps, negative and out-of-range bounds, and empty results", () => {
    const bound = fc.option(fc.integer({ min: -6, max: 6 }), { nil: undefined });
    const args = (shape: number[]) => fc.tuple(axisArb(shape.length), bound, bound, fc.integer({ min: 1, max: 3 }));
    fc.assert(
      fc.property(withShape(1, 3, 5, args), ([spec, [dim, start, end, step]]) => {
        check((x) => ag.slice(x, dim, start, end, step), [toLeaf(spec)]);
        // Two slices of one tensor: their gradients add up in the same input.
        check((x) => x.slice(dim, start, end, step).sum().add(x.slice(dim, undefined, undefined, 2).sum()), [toLeaf(spec)]);
      }),
      RUNS,
    );
  });

  test("select (negative index too)", () => {
    const args = (shape: number[]) =>
      axisArb(shape.length).chain((dim) => {
        const n = shape[dim < 0 ? dim + shape.length : dim]!;
        return fc.tuple(fc.constant(dim), fc.integer({ min: -n, max: n - 1 }));
      });
    fc.assert(fc.property(withShape(1, 3, 3, args), ([spec, [dim, index]]) => check((x) => x.select(dim, index), [toLeaf(spec)])), RUNS);
  });

  test("expand / expandAs: size-1 dims grow, new leading dims appear, -1 keeps a size", () => {
    const target = (shape: number[]) =>
      fc.tuple(
        fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 2 }),
        fc.array(fc.integer({ min: 1, max: 3 }), { minLength: shape.length, maxLength: shape.length }),
        fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }),
      ).map(([lead, grow, keep]) => [...lead, ...shape.map((d, i) => (d === 1 ? grow[i]! : keep[i] ? -1 : d))]);
    // Shapes with many size-1 dims, so that most of them broadcast.
    const shapes = fc.array(fc.constantFrom(1, 1, 2, 3), { minLength: 0, maxLength: 3 });
    fc.assert(
      fc.property(inputArb(shapes).chain((spec) => fc.tuple(fc.constant(spec), target(spec.shape))), ([spec, shape]) => {
        check((x) => ag.expand(x, shape), [toLeaf(spec)]);
        const like = ag.zeros(ag.expand(toLeaf(spec), shape).shape, { dtype: "float64" });
        check((x) => x.expandAs(like).mul(x.expand(...shape)), [toLeaf(spec)]);
      }),
      RUNS,
    );
  });

  test("squeeze (all, one dim, several dims) and unsqueeze", () => {
    const shapes = fc.array(fc.constantFrom(1, 1, 2, 3), { minLength: 0, maxLength: 4 });
    const args = (shape: number[]) =>
      fc.tuple(
        shape.length
          ? fc.oneof(fc.constant(undefined), axisArb(shape.length), fc.shuffledSubarray(shape.map((_, i) => i)))
          : fc.constant(undefined),
        fc.integer({ min: -shape.length - 1, max: shape.length }),
      );
    fc.assert(
      fc.property(inputArb(shapes).chain((spec) => fc.tuple(fc.constant(spec), args(spec.shape))), ([spec, [dims, at]]) => {
        check((x) => ag.squeeze(x, dims), [toLeaf(spec)]);
        check((x) => x.unsqueeze(at), [toLeaf(spec)]);
      }),
      RUNS,
    );
  });

  test("flatten over a random range of dims", () => {
    const args = (shape: number[]) =>
      fc.tuple(fc.nat(Math.max(0, shape.length - 1)), fc.nat(Math.max(0, shape.length - 1)), fc.boolean())
        .map(([a, b, neg]) => {
          const [s, e] = a <= b ? [a, b] : [b, a];
          return neg && shape.length ? [s - shape.length, e - shape.length] : [s, e];
        });
    fc.assert(fc.property(withShape(0, 4, 3, args), ([spec, [s, e]]) => check((x) => ag.flatten(x, s, e), [toLeaf(spec)])), RUNS);
  });

  test("contiguous and clone, of contiguous and non-contiguous leaves", () => {
    fc.assert(
      fc.property(inputArb(shapeArb(0, 3, 3)), (spec: InputSpec) => {
        check((x) => ag.contiguous(x).mul(x), [toLeaf(spec)]);
        check((x) => x.clone().mul(x.contiguous()), [toLeaf(spec)]);
        const x = toLeaf(spec);
        const c = x.clone();
        expect(c.value.isContiguous()).toBe(true);
        expect(c.value.storage).not.toBe(x.value.storage);
      }),
      RUNS,
    );
  });

  test("contiguous of a tensor without a gradient is the tensor itself", () => {
    const x = ag.ones([2, 2], { dtype: "float64" });
    expect(x.contiguous()).toBe(x);
  });
});

describe("cast", () => {
  test("float64 → float32 → float64: the gradient is cast back to the input's dtype", () => {
    fc.assert(
      fc.property(inputArb(shapeArb(0, 3, 3)), (spec) => {
        // The float32 round trip rounds values by ~6e-8 relative, so the finite difference needs a larger step
        // (eps 1e-3) and looser tolerances than a float64 op.
        check((x) => ag.cast(x, "float32").mul(2).cast("float64"), [toLeaf(spec)], { eps: 1e-3, atol: 1e-3, rtol: 1e-2 });
        const x = toLeaf(spec);
        x.cast("float32").sum().backward();
        expect(x.grad!.dtype).toBe("float64");
      }),
      { numRuns: 10 },
    );
  });

  test("to the same dtype is the tensor itself; to an integer dtype carries no graph", () => {
    const x = leaf([1.5, -2.5], [2]);
    expect(x.cast("float64")).toBe(x);
    const i = x.cast("int32");
    expect(i.requiresGrad).toBe(false);
    expect(i.gradFn).toBeNull();
  });
});

describe("to (device move)", () => {
  // A second CPU backend under another name stands in for another device: the move really copies between
  // backends, and the gradient has to come back to "cpu".
  const other = new T.CpuBackend();
  Object.defineProperty(other, "name", { value: "cpu-other" });
  T.registerBackend(other);

  test("the gradient moves back to the source device", () => {
    fc.assert(
      fc.property(inputArb(shapeArb(0, 3, 3)), (spec) => {
        check((x) => {
          const y = x.to("cpu-other").mul(x.to("cpu-other"));
          expect(y.device).toBe("cpu-other");
          return y.to("cpu");
        }, [toLeaf(spec)]);
      }),
      { numRuns: 10 },
    );
  });

  test("to the same device is the tensor itself", () => {
    const x = leaf([1, 2], [2]);
    expect(x.to("cpu")).toBe(x);
  });
});

import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { gradcheck, Tensor } from "@backprop/autograd";
import * as T from "@backprop/tensor";
import { CrossEntropyLoss, crossEntropy, type Reduction } from "../src/mod.ts";
import { liveStorages, randn64 } from "./helpers.ts";

type Dtype = "float32" | "float64";

/**
 * Loss and logits gradient of `crossEntropy` on seeded random logits of `shape` (class dimension 1) scaled by
 * `scale`, with class indices or soft probabilities, backpropagating a random upstream gradient so every
 * element of a "none" loss counts.
 */
function lossAndGrad(
  shape: number[],
  dtype: Dtype,
  scale: number,
  reduction: Reduction,
  probabilities: boolean,
  seed: number,
  fused: boolean,
): [number[], number[]] {
  return T.tidy(() => {
    const x = new Tensor(T.randn(shape, { dtype, generator: new T.Generator(seed) }).mul(scale), { requiresGrad: true });
    const targetShape = shape.filter((_, i) => i !== 1);
    const target = probabilities
      ? T.softmax(T.randn(shape, { dtype, generator: new T.Generator(seed + 1) }).mul(2), 1)
      : T.randint(0, shape[1]!, targetShape, { generator: new T.Generator(seed + 2) });
    const loss = crossEntropy(x, target, { reduction, fused });
    const probe = T.randn(loss.shape, { dtype, generator: new T.Generator(seed + 3) });
    loss.mul(new Tensor(probe)).sum().backward();
    return [Array.from(loss.value.dataSync()), Array.from(x.grad!.value.dataSync())];
  });
}

/** Largest |a − b| relative to max(1, largest |b|). */
function maxRelativeError(a: number[], b: number[]): number {
  const scale = Math.max(1, ...b.map(Math.abs));
  return Math.max(0, ...a.map((v, i) => Math.abs(v - b[i]!) / scale));
}

const shapes = fc.oneof(
  fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 13 })).map(([n, c]) => [n, c]),
  fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 2, max: 6 }), fc.integer({ min: 1, max: 5 })).map(([n, c, d]) => [n, c, d]),
);

describe("crossEntropy as fused passes equals the composed graph", () => {
  test("float64, class indices: loss and gradient bit for bit (property, logits up to ±1e4)", () => {
    fc.assert(
      fc.property(shapes, fc.constantFrom(1, 30, 1e4), fc.constantFrom<Reduction>("mean", "sum", "none"), fc.nat(10_000), (shape, scale, reduction, seed) => {
        const fused = lossAndGrad(shape, "float64", scale, reduction, false, seed, true);
        const unfused = lossAndGrad(shape, "float64", scale, reduction, false, seed, false);
        expect(fused).toEqual(unfused);
      }),
      { numRuns: 60 },
    );
  });

  test("float64, probabilities: loss bit for bit, gradient within 1e-14 (the fused form uses softmax·Σp − p)", () => {
    fc.assert(
      fc.property(shapes, fc.constantFrom(1, 30, 1e4), fc.constantFrom<Reduction>("mean", "sum", "none"), fc.nat(10_000), (shape, scale, reduction, seed) => {
        const [fLoss, fGrad] = lossAndGrad(shape, "float64", scale, reduction, true, seed, true);
        const [uLoss, uGrad] = lossAndGrad(shape, "float64", scale, reduction, true, seed, false);
        expect(fLoss).toEqual(uLoss);
        expect(maxRelativeError(fGrad, uGrad)).toBeLessThanOrEqual(1e-14);
      }),
      { numRuns: 60 },
    );
  });

  test("float32, both target kinds: loss and gradient within 1e-6 of the largest magnitude (property, up to ±1e4)", () => {
    fc.assert(
      fc.property(shapes, fc.constantFrom(1, 30, 1e4), fc.constantFrom<Reduction>("mean", "sum", "none"), fc.boolean(), fc.nat(10_000), (shape, scale, reduction, probabilities, seed) => {
        const [fLoss, fGrad] = lossAndGrad(shape, "float32", scale, reduction, probabilities, seed, true);
        const [uLoss, uGrad] = lossAndGrad(shape, "float32", scale, reduction, probabilities, seed, false);
        expect(maxRelativeError(fLoss, uLoss)).toBeLessThanOrEqual(1e-6);
        expect(maxRelativeError(fGrad, uGrad)).toBeLessThanOrEqual(1e-6);
      }),
      { numRuns: 60 },
    );
  });
});

describe("crossEntropy as fused passes", () => {
  test("gradcheck against finite differences, indices and probabilities, [N, C] and [N, C, d] (property)", () => {
    fc.assert(
      fc.property(shapes, fc.nat(1000), fc.constantFrom<Reduction>("mean", "sum", "none"), (shape, seed, reduction) => {
        T.tidy(() => {
          const z = randn64(shape, seed, { requiresGrad: true, scale: 3 });
          const idx = T.randint(0, shape[1]!, shape.filter((_, i) => i !== 1), { generator: new T.Generator(seed) });
          gradcheck((x) => crossEntropy(x, idx, { reduction, fused: true }), [z]);
          const p = T.softmax(T.randn(shape, { dtype: "float64", generator: new T.Generator(seed + 1) }), 1);
          gradcheck((x) => crossEntropy(x, p, { reduction, fused: true }), [z]);
        });
      }),
      { numRuns: 15 },
    );
  });

  test("records one graph node; the composed path records several", () => {
    const x = randn64([4, 5], 1, { requiresGrad: true });
    const t = T.tensor([0, 4, 2, 2], { dtype: "int32" });
    expect(crossEntropy(x, t).gradFn!.name).toBe("CrossEntropyFused");
    expect(crossEntropy(x, t, { fused: false }).gradFn!.name).not.toBe("CrossEntropyFused");
    // The CPU backend has fused kernels, so the module picks them unless told not to.
    expect(new CrossEntropyLoss().forward(x, t).gradFn!.name).toBe("CrossEntropyFused");
    expect(new CrossEntropyLoss({ fused: false }).forward(x, t).gradFn!.name).not.toBe("CrossEntropyFused");
  });

  test("unbatched [C] input, and a probability target that wants its own gradient (composed path)", () => {
    const z = randn64([5], 2, { requiresGrad: true });
    const label = T.tensor([3], { dtype: "int32" }).reshape([]);
    expect(crossEntropy(z, label).itemSync()).toBe(crossEntropy(z, label, { fused: false }).itemSync());
    const p = new Tensor(T.softmax(T.randn([3, 4], { dtype: "float64", generator: new T.Generator(3) }), 1), { requiresGrad: true });
    const logits = randn64([3, 4], 4, { requiresGrad: true });
    gradcheck((x, q) => crossEntropy(x, q), [logits, p]);
  });

  test("no storage outlives a training-style step (tidy), with or without a graph", () => {
    const step = () =>
      T.tidy(() => {
        const x = randn64([8, 10], 5, { requiresGrad: true });
        crossEntropy(x, T.randint(0, 10, [8], { generator: new T.Generator(6) })).backward();
        // A leaf's gradient outlives the scope by design (an optimizer reads it after); its owner frees it.
        x.grad!.value.dispose();
        crossEntropy(new Tensor(x.value), T.randint(0, 10, [8], { generator: new T.Generator(7) }), { reduction: "none" });
      });
    step();
    const before = liveStorages();
    for (let i = 0; i < 5; i++) step();
    expect(liveStorages()).toBe(before);
  });

  test("out-of-range class indices and bad targets are still named errors", () => {
    const x = randn64([2, 3], 8, { requiresGrad: true });
    expect(() => crossEntropy(x, T.tensor([3, 0], { dtype: "int32" }), { fused: true })).toThrow();
    expect(() => crossEntropy(x, T.tensor([0, 1, 2], { dtype: "int32" }), { fused: true })).toThrow(
      /crossEntropy: input \[2, 3\] needs class-index targets of shape \[2\], got \[3\]/,
    );
    expect(() => crossEntropy(x, T.zeros([2, 4], { dtype: "float64" }), { fused: true })).toThrow(/probability targets must have the input's shape/);
  });
});

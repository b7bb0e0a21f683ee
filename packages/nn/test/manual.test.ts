import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { relError, Tensor } from "@backprop/autograd";
import * as T from "@backprop/tensor";
import {
  CrossEntropyModule,
  crossEntropy,
  Linear,
  LinearModule,
  ManualMLP,
  MLP,
  ReLU,
  ReLUModule,
  Softmax,
  SoftMaxModule,
  StateDictError,
} from "../src/mod.ts";
import { liveStorages, noiseFloor, numericGradient, values } from "./helpers.ts";

const f64 = (shape: number[], seed: number, scale = 1): T.NDArray =>
  T.randn(shape, { dtype: "float64", generator: new T.Generator(seed) }).mul(scale);
const arr = (v: Float64Array, shape: readonly number[]) => T.tensor(new Float64Array(v), { shape, dtype: "float64" });
const data = (a: T.NDArray) => new Float64Array(a.dataSync() as Float64Array);
/** Σ out ⊙ dout: its gradient with respect to the module's input is what backward(dout) returns. */
const project = (out: T.NDArray, dout: T.NDArray) => T.sum(T.mul(out, dout)).itemSync();

describe("LinearModule", () => {
  test("weights start from N(0, 0.0001²) (seeded), biases and gradients at 0", () => {
    const m = new LinearModule(300, 200, { generator: new T.Generator(1) });
    const w = values(m.params.weight);
    const mean = w.reduce((a, b) => a + b, 0) / w.length;
    const std = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length);
    expect(std).toBeGreaterThan(0.98e-4);
    expect(std).toBeLessThan(1.02e-4);
    expect(Math.abs(mean)).toBeLessThan(1e-6);
    expect(m.params.weight.shape).toEqual([200, 300]);
    expect(new Set(values(m.params.bias))).toEqual(new Set([0]));
    expect(m.grads.weight.shape).toEqual([200, 300]);
    expect(values(new LinearModule(300, 200, { generator: new T.Generator(1) }).params.weight)).toEqual(w);
  });

  test("dx, dW and db match finite differences (relError < 1e-5, float64) on random shapes (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 4 }), fc.nat(1000), (batch, inF, outF, seed) => {
        T.tidy(() => {
          const m = new LinearModule(inF, outF, { dtype: "float64", generator: new T.Generator(seed) });
          m.params.bias = T.keep(f64([outF], seed + 3, 1e-4));
          const x = f64([batch, inF], seed + 1);
          const dout = f64([batch, outF], seed + 2);
          m.forward(x);
          const dx = m.backward(dout);
          const numDx = numericGradient((v) => project(m.forward(arr(v, x.shape)), dout), data(x));
          expect(relError(data(dx), numDx, noiseFloor(numDx))).toBeLessThan(1e-5);
          const w = m.params.weight, b = m.params.bias;
          const numDw = numericGradient((v) => {
            m.params.weight = arr(v, w.shape);
            return project(m.forward(x), dout);
          }, data(w));
          m.params.weight = w;
          const numDb = numericGradient((v) => {
            m.params.bias = arr(v, b.shape);
            return project(m.forward(x), dout);
          }, data(b));
          m.params.bias = b;
          expect(relError(data(m.grads.weight), numDw, noiseFloor(numDw))).toBeLessThan(1e-5);
          expect(relError(data(m.grads.bias), numDb, noiseFloor(numDb))).toBeLessThan(1e-5);
        });
      }),
      { numRuns: 12 },
    );
  });

  test("agrees with the autograd Linear on the same weights", () => {
    const m = new LinearModule(4, 3, { dtype: "float64", generator: new T.Generator(5) });
    const lin = new Linear(4, 3, { dtype: "float64" });
    lin.weight.assign(m.params.weight.clone());
    lin.bias!.assign(f64([3], 9));
    m.params.bias = T.keep(lin.bias!.value.clone());
    const x = f64([6, 4], 6), dout = f64([6, 3], 7);
    const xt = new Tensor(x, { requiresGrad: true });
    const y = lin.forward(xt);
    y.backward(dout);
    expect(values(m.forward(x))).toEqual(values(y).map((v) => expect.closeTo(v, 14)));
    const dx = m.backward(dout);
    expect(values(dx)).toEqual(values(xt.grad!).map((v) => expect.closeTo(v, 14)));
    expect(values(m.grads.weight)).toEqual(values(lin.weight.grad!).map((v) => expect.closeTo(v, 14)));
    expect(values(m.grads.bias)).toEqual(values(lin.bias!.grad!).map((v) => expect.closeTo(v, 14)));
  });

  test("errors: input shape, backward before forward", () => {
    const m = new LinearModule(4, 3);
    expect(() => m.forward(T.zeros([2, 5]))).toThrow(/expected x \[batch, 4\], got \[2, 5\]/);
    expect(() => m.backward(T.zeros([2, 3]))).toThrow(/call forward first/);
    m.forward(T.zeros([2, 4]));
    expect(() => m.backward(T.zeros([2, 4]))).toThrow(/expected dout \[2, 3\], got \[2, 4\]/);
  });
});

describe("ReLUModule, SoftMaxModule, CrossEntropyModule", () => {
  test("ReLUModule: dx matches finite differences (relError < 1e-6) and autograd's relu", () => {
    const m = new ReLUModule();
    const raw = f64([5, 7], 11);
    const x = raw.add(raw.sign().mul(0.01)); // away from the kink
    const dout = f64([5, 7], 12);
    m.forward(x);
    const dx = m.backward(dout);
    const num = numericGradient((v) => project(m.forward(arr(v, x.shape)), dout), data(x));
    expect(relError(data(dx), num)).toBeLessThan(1e-6);
    const xt = new Tensor(x, { requiresGrad: true });
    new ReLU().forward(xt).backward(dout);
    expect(values(dx)).toEqual(values(xt.grad!));
  });

  test("SoftMaxModule: rows sum to 1, large inputs do not overflow, dx matches finite differences and autograd", () => {
    const m = new SoftMaxModule();
    const y = m.forward(T.tensor([[1000, 1001, 1002], [-1000, 0, 1000]], { dtype: "float32" }));
    const yv = values(y);
    expect(yv.every(Number.isFinite)).toBe(true);
    expect(yv[0]! + yv[1]! + yv[2]!).toBeCloseTo(1, 6);
    expect(yv[5]).toBe(1);

    const x = f64([4, 5], 13, 2), dout = f64([4, 5], 14);
    m.forward(x);
    const dx = m.backward(dout);
    const num = numericGradient((v) => project(m.forward(arr(v, x.shape)), dout), data(x));
    expect(relError(data(dx), num)).toBeLessThan(1e-5);
    const xt = new Tensor(x, { requiresGrad: true });
    new Softmax(1).forward(xt).backward(dout);
    expect(values(dx)).toEqual(values(xt.grad!).map((v) => expect.closeTo(v, 14)));
  });

  test("CrossEntropyModule: mean over the batch of −Σ y log x; dx matches finite differences; labels or one-hot", () => {
    const ce = new CrossEntropyModule();
    const x = T.tensor([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]], { dtype: "float64" });
    const labels = T.tensor([2, 1], { dtype: "int32" });
    const oneHot = T.oneHot(labels, 3, { dtype: "float64" });
    const expected = -(Math.log(0.5) + Math.log(0.3)) / 2;
    expect(ce.forward(x, oneHot).itemSync()).toBeCloseTo(expected, 15);
    expect(ce.forward(x, labels).itemSync()).toBeCloseTo(expected, 15);
    expect(ce.forward(x, oneHot).shape).toEqual([]);
    const dx = ce.backward(x, oneHot);
    expect(values(dx)).toEqual([0, 0, -1 / (2 * 0.5), 0, -1 / (2 * 0.3), 0].map((v) => expect.closeTo(v, 14)));
    const num = numericGradient((v) => ce.forward(arr(v, x.shape), oneHot).itemSync(), data(x));
    // Entries without a target have zero gradient both ways; relError over all entries.
    expect(relError(data(dx), num)).toBeLessThan(1e-5);
    expect(values(ce.backward(x, labels))).toEqual(values(dx));
    expect(() => ce.forward(x, T.zeros([2, 4], { dtype: "float64" }))).toThrow(/one-hot targets must have x's shape \[2, 3\]/);
    expect(() => ce.forward(x, T.tensor([[1]], { dtype: "int32" }))).toThrow(/int32 labels must have shape \[2\]/);
  });

  test("SoftMax then CrossEntropy agree with crossEntropy on logits, forward and backward", () => {
    const z = f64([6, 4], 21, 3);
    const labels = T.randint(0, 4, [6], { generator: new T.Generator(22) });
    const sm = new SoftMaxModule(), ce = new CrossEntropyModule();
    const probs = sm.forward(z);
    const loss = ce.forward(probs, labels).itemSync();
    const dz = sm.backward(ce.backward(probs, labels));
    const zt = new Tensor(z, { requiresGrad: true });
    const auto = crossEntropy(zt, labels);
    auto.backward();
    expect(loss).toBeCloseTo(auto.itemSync(), 13);
    expect(values(dz)).toEqual(values(zt.grad!).map((v) => expect.closeTo(v, 13)));
  });
});

describe("ManualMLP", () => {
  test("layer structure; an empty hidden list is logistic regression", () => {
    const mlp = new ManualMLP(5, [4, 3], 2);
    expect(mlp.layers.map((l) => l.constructor.name)).toEqual([
      "LinearModule", "ReLUModule", "LinearModule", "ReLUModule", "LinearModule", "SoftMaxModule",
    ]);
    expect(mlp.linears.map((l) => l.params.weight.shape)).toEqual([[4, 5], [3, 4], [2, 3]]);
    const logistic = new ManualMLP(5, [], 3);
    expect(logistic.layers.map((l) => l.constructor.name)).toEqual(["LinearModule", "SoftMaxModule"]);
    expect(() => new ManualMLP(5, [0], 3)).toThrow(/nHidden\[0\] must be a positive integer/);
  });

  test("agrees with the autograd MLP on the same weights: probabilities, loss and every gradient", () => {
    const manual = new ManualMLP(6, [5, 4], 3, { dtype: "float64", generator: new T.Generator(31) });
    // Larger weights than the N(0, 1e-4²) init, so that every layer's gradient is far from rounding noise.
    manual.linears.forEach((l, i) => {
      l.params.weight = T.keep(f64(l.params.weight.shape as number[], 40 + i, 0.5));
      l.params.bias = T.keep(f64(l.params.bias.shape as number[], 50 + i, 0.1));
    });
    const auto = new MLP(6, [5, 4], 3, { dtype: "float64" });
    auto.loadStateDict(manual.stateDict());
    const x = f64([7, 6], 32), labels = T.randint(0, 3, [7], { generator: new T.Generator(33) });

    const probs = manual.forward(x);
    const ce = new CrossEntropyModule();
    const loss = ce.forward(probs, labels).itemSync();
    manual.backward(ce.backward(probs, labels));

    const logits = auto.forward(new Tensor(x));
    const autoLoss = crossEntropy(logits, labels);
    autoLoss.backward();
    expect(values(probs)).toEqual(values(logits.softmax(1)).map((v) => expect.closeTo(v, 13)));
    expect(loss).toBeCloseTo(autoLoss.itemSync(), 13);
    const grads = Object.fromEntries(auto.namedParameters().map(([n, p]) => [n, values(p.grad!)]));
    manual.linears.forEach((l, k) => {
      const rel = relError(values(l.grads.weight), grads[`layers.${2 * k}.weight`]!);
      expect(rel).toBeLessThan(1e-9);
      expect(relError(values(l.grads.bias), grads[`layers.${2 * k}.bias`]!)).toBeLessThan(1e-9);
    });
    // And the other way: the autograd model's state loads into a manual one.
    const back = new ManualMLP(6, [5, 4], 3, { dtype: "float64" });
    back.loadStateDict(auto.stateDict());
    expect(values(back.forward(x))).toEqual(values(probs));
  });

  test("backward with inputGrad false fills the same gradients, skips dL/dx and allocates less", () => {
    const make = () => new ManualMLP(6, [5], 3, { dtype: "float64", generator: new T.Generator(7) });
    const x = f64([4, 6], 8), labels = T.randint(0, 3, [4], { generator: new T.Generator(9) });
    const ce = new CrossEntropyModule();
    const run = (mlp: ManualMLP, inputGrad: boolean) =>
      T.tidy(() => {
        const probs = mlp.forward(x);
        const before = liveStorages();
        const dx = mlp.backward(ce.backward(probs, labels), { inputGrad });
        const allocated = liveStorages() - before;
        const grads = mlp.linears.flatMap((l) => [values(l.grads.weight), values(l.grads.bias)]);
        return { dx: dx ? values(dx) : undefined, grads, allocated };
      });
    const full = run(make(), true), lean = run(make(), false);
    expect(full.dx).toHaveLength(4 * 6);
    expect(lean.dx).toBeUndefined();
    expect(lean.grads).toEqual(full.grads);
    expect(lean.allocated).toBeLessThan(full.allocated);
    // The single module too.
    const m = new LinearModule(6, 5, { dtype: "float64" });
    m.forward(x);
    expect(m.backward(T.ones([4, 5], { dtype: "float64" }), { inputGrad: false })).toBeUndefined();
  });

  test("training with sgdStep lowers the loss and keeps memory flat", () => {
    const mlp = new ManualMLP(4, [16], 3, { generator: new T.Generator(2) });
    const x = T.randn([30, 4], { generator: new T.Generator(3) });
    const labels = T.argmax(x.narrow(1, 0, 3), 1);
    const ce = new CrossEntropyModule();
    const step = () =>
      T.tidy(() => {
        const probs = mlp.forward(x);
        const loss = ce.forward(probs, labels).itemSync();
        mlp.backward(ce.backward(probs, labels));
        mlp.sgdStep(0.5);
        mlp.clearCache();
        return loss;
      });
    const first = step();
    const before = liveStorages();
    let last = first;
    for (let i = 0; i < 300; i++) last = step();
    expect(liveStorages()).toBe(before);
    expect(last).toBeLessThan(0.5 * first);
  });

  test("loadStateDict names what does not match", () => {
    const mlp = new ManualMLP(4, [3], 2);
    const other = new ManualMLP(4, [5], 2).stateDict();
    expect(() => mlp.loadStateDict(other)).toThrow(StateDictError);
    expect(() => mlp.loadStateDict(other)).toThrow(/shape mismatch for "layers.0.weight": the state has \[5, 4\], the model \[3, 4\]/);
    expect(() => mlp.loadStateDict({})).toThrow(/missing keys: "layers.0.weight"/);
  });
});

import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { gradcheck, noGrad, relError, Tensor, tensor } from "@backprop/autograd";
import * as T from "@backprop/tensor";
import {
  AvgPool2d,
  BatchNorm1d,
  BatchNorm2d,
  Conv2d,
  Dropout,
  ELU,
  Flatten,
  Identity,
  Linear,
  LogSoftmax,
  MaxPool2d,
  type Module,
  ReLU,
  Sigmoid,
  Softplus,
  Softmax,
  Tanh,
} from "../src/mod.ts";
import { largeOffset, noiseFloor, randn64, values, withLargeOutputs } from "./helpers.ts";

/**
 * gradcheck of a layer with respect to its input and all of its parameters (float64), and the assignment's
 * bound on relError; then gradcheck again with the outputs made large (`withLargeOutputs`). Batch norm in training
 * mode skips the relError bound: some of its input gradients are exactly 0 in theory (a batch of two normalises to
 * ±1 whatever the input), where relError only measures rounding noise — as it does for every near-0 gradient once
 * the outputs are large, so that check has only gradcheck's tolerance.
 */
function checkLayer(layer: Module, x: Tensor, offset: number, relErrorBound: number | null = 1e-5): void {
  const params = layer.parameters();
  const result = gradcheck((input) => layer.forward(input), [x, ...params]);
  expect(result.pass).toBe(true);
  if (relErrorBound !== null) {
    // Per element, with the floor at the differences' noise (see noiseFloor): elements that nearly cancel are held
    // to 1e-5 of that floor in absolute terms, every other element to the relative bound.
    for (const c of result.inputs) {
      expect(relError(c.analyticalGradient, c.numericalGradient, noiseFloor(c.numericalGradient))).toBeLessThan(relErrorBound);
    }
  }
  gradcheck(withLargeOutputs((input) => layer.forward(input), offset), [x, ...params]);
}

const runs = { numRuns: 8 };

describe("Linear", () => {
  test("computes x Wᵀ + b", () => {
    const lin = new Linear(2, 3);
    lin.weight.assign(T.tensor([[1, 2], [3, 4], [5, 6]], { dtype: "float32" }));
    lin.bias!.assign(T.tensor([0.5, -1, 2], { dtype: "float32" }));
    const y = lin.forward(tensor([[1, -1], [2, 0]], { dtype: "float32" }));
    expect(y.toArraySync()).toEqual([[-0.5, -2, 1], [2.5, 5, 12]]);
    expect(new Linear(2, 3, { bias: false }).bias).toBeNull();
    expect(() => lin.forward(tensor([[1, 2, 3]], { dtype: "float32" }))).toThrow(/last dimension must be 2/);
  });

  test("gradients pass gradcheck on random shapes (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 4 }), fc.nat(1000), largeOffset, (n, i, o, seed, offset) => {
        T.tidy(() => {
          const lin = new Linear(i, o, { dtype: "float64", generator: new T.Generator(seed) });
          checkLayer(lin, randn64([n, i], seed + 1, { requiresGrad: true }), offset);
        });
      }),
      runs,
    );
  });
});

/** Direct loops: the definition of a grouped, strided, dilated, padded cross-correlation. */
function naiveConv(x: number[][][][], w: number[][][][], b: number[], s: number, p: number, d: number, groups: number): number[][][][] {
  const [n, c, h, wd] = [x.length, x[0]!.length, x[0]![0]!.length, x[0]![0]![0]!.length];
  const [o, cg, kh, kw] = [w.length, w[0]!.length, w[0]![0]!.length, w[0]![0]![0]!.length];
  const oh = Math.floor((h + 2 * p - d * (kh - 1) - 1) / s) + 1;
  const ow = Math.floor((wd + 2 * p - d * (kw - 1) - 1) / s) + 1;
  const opg = o / groups;
  void c;
  return Array.from({ length: n }, (_, ni) =>
    Array.from({ length: o }, (_, oi) =>
      Array.from({ length: oh }, (_, yi) =>
        Array.from({ length: ow }, (_, xi) => {
          let acc = b[oi]!;
          const g = Math.floor(oi / opg);
          for (let ci = 0; ci < cg; ci++) {
            for (let ky = 0; ky < kh; ky++) {
              for (let kx = 0; kx < kw; kx++) {
                const iy = yi * s - p + ky * d, ix = xi * s - p + kx * d;
                if (iy >= 0 && iy < h && ix >= 0 && ix < wd) acc += x[ni]![g * cg + ci]![iy]![ix]! * w[oi]![ci]![ky]![kx]!;
              }
            }
          }
          return acc;
        }))));
}

describe("Conv2d", () => {
  test("matches the definition with stride, padding, dilation and groups", () => {
    const conv = new Conv2d(4, 6, 3, { stride: 2, padding: 2, dilation: 2, groups: 2, dtype: "float64", generator: new T.Generator(5) });
    const x = randn64([2, 4, 7, 6], 11);
    const y = conv.forward(x);
    const expected = naiveConv(
      x.toArraySync() as number[][][][],
      conv.weight.toArraySync() as number[][][][],
      values(conv.bias!),
      2, 2, 2, 2,
    );
    expect(y.shape).toEqual([2, 6, 4, 3]);
    const got = values(y), want = expected.flat(3);
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 12));
    expect(conv.toString()).toBe("Conv2d(4, 6, kernel_size=(3, 3), stride=(2, 2), padding=(2, 2), dilation=(2, 2), groups=2)");
  });

  test("checks its arguments and input", () => {
    expect(() => new Conv2d(3, 4, 3, { groups: 2 })).toThrow(/groups \(2\) must be a positive integer dividing/);
    expect(() => new Conv2d(3, 4, 3).forward(tensor([[1]], { dtype: "float32" }))).toThrow(/expected input \[N, 3, H, W\], got \[1, 1\]/);
    expect(new Conv2d(1, 1, 3, { padding: "same" }).forward(new Tensor(T.zeros([1, 1, 5, 5]))).shape).toEqual([1, 1, 5, 5]);
  });

  test("a gradient element that cancels to ~3e-6 is held to the bound at the differences' noise floor", () => {
    // Found by the property below at 50× its runs: one 1×1 kernel's two output weights, projected, nearly cancel at
    // one input element. The gradient is right to ~1e-10 everywhere; relError with the 1e-8 floor reads that noise
    // over 6e-6 as 1.3e-5.
    T.tidy(() => {
      const conv = new Conv2d(1, 2, 1, { dtype: "float64", generator: new T.Generator(23) });
      const result = gradcheck((input) => conv.forward(input), [randn64([2, 1, 3, 3], 24, { requiresGrad: true }), ...conv.parameters()]);
      const x = result.inputs[0]!;
      expect(x.maxAbsError).toBeLessThan(1e-9);
      expect(Math.abs(x.numerical)).toBeLessThan(1e-5);
      expect(x.relError).toBeGreaterThan(1e-5);
      expect(relError(x.analyticalGradient, x.numericalGradient, noiseFloor(x.numericalGradient))).toBeLessThan(1e-6);
    });
  });

  test("gradients pass gradcheck on random shapes and options (property)", () => {
    fc.assert(
      fc.property(
        fc.record({
          n: fc.integer({ min: 1, max: 2 }),
          groups: fc.integer({ min: 1, max: 2 }),
          cPerGroup: fc.integer({ min: 1, max: 2 }),
          oPerGroup: fc.integer({ min: 1, max: 2 }),
          k: fc.integer({ min: 1, max: 3 }),
          stride: fc.integer({ min: 1, max: 2 }),
          padding: fc.integer({ min: 0, max: 1 }),
          size: fc.integer({ min: 3, max: 5 }),
          bias: fc.boolean(),
          seed: fc.nat(1000),
          offset: largeOffset,
        }),
        ({ n, groups, cPerGroup, oPerGroup, k, stride, padding, size, bias, seed, offset }) => {
          T.tidy(() => {
            const conv = new Conv2d(cPerGroup * groups, oPerGroup * groups, k, {
              stride, padding, groups, bias, dtype: "float64", generator: new T.Generator(seed),
            });
            checkLayer(conv, randn64([n, cPerGroup * groups, size, size], seed + 1, { requiresGrad: true }), offset);
          });
        },
      ),
      runs,
    );
  });
});

describe("pooling", () => {
  const grid = () => tensor([[[[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]]], { dtype: "float64" });

  test("MaxPool2d and AvgPool2d compute window maxima and means (stride defaults to the kernel)", () => {
    expect(new MaxPool2d(2).forward(grid()).toArraySync()).toEqual([[[[6, 8], [14, 16]]]]);
    expect(new AvgPool2d(2).forward(grid()).toArraySync()).toEqual([[[[3.5, 5.5], [11.5, 13.5]]]]);
    // 3×3 windows, stride 2, padding 1: the ConvNet's pooling.
    expect(new MaxPool2d(3, { stride: 2, padding: 1 }).forward(grid()).toArraySync()).toEqual([[[[6, 8], [14, 16]]]]);
    // Padded zeros count in the average unless countIncludePad is false.
    const padded = new AvgPool2d(2, { stride: 2, padding: 1 }).forward(grid());
    expect(values(padded)[0]).toBe(0.25);
    const excluded = new AvgPool2d(2, { stride: 2, padding: 1, countIncludePad: false }).forward(grid());
    expect(values(excluded)[0]).toBe(1);
    expect(new AvgPool2d(1, { stride: 1 }).forward(grid()).toArraySync()).toEqual(grid().toArraySync());
  });

  test("gradients pass gradcheck (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 3 }), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 0, max: 1 }), fc.nat(1000), largeOffset, (k, stride, padding, seed, offset) => {
        T.tidy(() => {
          const x = randn64([2, 2, 5, 5], seed, { requiresGrad: true });
          checkLayer(new MaxPool2d(k, { stride, padding }), x, offset);
          checkLayer(new AvgPool2d(k, { stride, padding }), x, offset);
        });
      }),
      runs,
    );
  });
});

describe("activations and Flatten", () => {
  test("forward values", () => {
    const x = tensor([[-2, 0.5, 3]], { dtype: "float64" });
    expect(values(new ReLU().forward(x))).toEqual([0, 0.5, 3]);
    expect(values(new ELU().forward(x))[0]).toBeCloseTo(Math.exp(-2) - 1, 15);
    expect(values(new ELU(0.5).forward(x))[0]).toBeCloseTo(0.5 * (Math.exp(-2) - 1), 15);
    expect(values(new Tanh().forward(x))[2]).toBeCloseTo(Math.tanh(3), 15);
    expect(values(new Sigmoid().forward(x))[1]).toBeCloseTo(1 / (1 + Math.exp(-0.5)), 15);
    const z = Math.exp(-2) + Math.exp(0.5) + Math.exp(3);
    expect(values(new Softmax(1).forward(x))[2]).toBeCloseTo(Math.exp(3) / z, 15);
    expect(values(new LogSoftmax().forward(x))[0]).toBeCloseTo(-2 - Math.log(z), 14);
    expect(new Identity().forward(x)).toBe(x);
    expect(values(new Softplus().forward(x))[0]).toBeCloseTo(Math.log1p(Math.exp(-2)), 15);
    // β = 2: log(1 + e^(2x)) / 2; at x = 30 βx is past the threshold, so the result is x itself.
    expect(values(new Softplus(2).forward(x))[1]).toBeCloseTo(Math.log1p(Math.exp(1)) / 2, 15);
    expect(values(new Softplus(2).forward(tensor([30], { dtype: "float64" })))).toEqual([30]);
    expect(() => new Softplus(0)).toThrow(/Softplus: beta must be a finite number > 0, got 0/);
    expect(new Flatten().forward(new Tensor(T.zeros([2, 3, 4, 5]))).shape).toEqual([2, 60]);
    expect(new Flatten(0, 1).forward(new Tensor(T.zeros([2, 3, 4]))).shape).toEqual([6, 4]);
  });

  test("gradients pass gradcheck (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }), fc.nat(1000), largeOffset, (n, f, seed, offset) => {
        T.tidy(() => {
          // ReLU's kink at 0 is avoided by keeping inputs at least 0.01 away from it.
          const raw = randn64([n, f], seed);
          const away = raw.value.add(raw.value.sign().mul(0.01));
          const x = new Tensor(away, { requiresGrad: true });
          for (const layer of [new ReLU(), new ELU(), new Tanh(), new Sigmoid(), new Softplus(), new Softplus(0.5), new Softmax(1), new LogSoftmax(1), new Flatten(0)]) {
            checkLayer(layer, x, offset);
          }
        });
      }),
      runs,
    );
  });
});

describe("Dropout", () => {
  test("training: zeroes about p of the units and scales the rest by 1/(1−p); seeded masks repeat", () => {
    const x = new Tensor(T.ones([200, 100]));
    const d = new Dropout(0.3, { generator: new T.Generator(1) });
    const y = values(d.forward(x));
    const zeros = y.filter((v) => v === 0).length / y.length;
    expect(zeros).toBeGreaterThan(0.28);
    expect(zeros).toBeLessThan(0.32);
    expect(new Set(y.filter((v) => v !== 0).map((v) => v.toFixed(6)))).toEqual(new Set([(1 / 0.7).toFixed(6)]));
    const again = values(new Dropout(0.3, { generator: new T.Generator(1) }).forward(x));
    expect(again).toEqual(y);
  });

  test("evaluation, p = 0 and p = 1", () => {
    const x = randn64([4, 5], 3);
    expect(new Dropout(0.5).eval().forward(x)).toBe(x);
    expect(new Dropout(0).forward(x)).toBe(x);
    expect(new Set(values(new Dropout(1).forward(x)))).toEqual(new Set([0]));
    expect(() => new Dropout(1.5)).toThrow(/p must be in \[0, 1\]/);
  });

  test("the gradient is the same mask", () => {
    const x = randn64([3, 4], 4, { requiresGrad: true });
    const y = new Dropout(0.5, { generator: new T.Generator(2) }).forward(x);
    y.sum().backward();
    const kept = values(y).map((v) => (v === 0 ? 0 : 2));
    expect(values(x.grad!)).toEqual(kept);
  });
});

describe("BatchNorm1d / BatchNorm2d", () => {
  test("training normalises with batch statistics and moves the running ones by momentum (unbiased variance)", () => {
    const bn = new BatchNorm1d(2, { dtype: "float64" });
    const x = tensor([[1, 10], [2, 20], [3, 60]], { dtype: "float64" });
    const y = bn.forward(x);
    const mean = [2, 30];
    const biased = [2 / 3, (400 + 100 + 900) / 3];
    const unbiased = [1, 700];
    const yv = values(y);
    expect(yv[0]).toBeCloseTo((1 - 2) / Math.sqrt(biased[0]! + 1e-5), 12);
    expect(yv[5]).toBeCloseTo((60 - 30) / Math.sqrt(biased[1]! + 1e-5), 12);
    expect(values(bn.getBuffer("running_mean"))).toEqual(mean.map((m) => 0.1 * m));
    values(bn.getBuffer("running_var")).forEach((v, i) => expect(v).toBeCloseTo(0.9 + 0.1 * unbiased[i]!, 12));
    expect(values(bn.getBuffer("num_batches_tracked"))).toEqual([1]);
    bn.forward(x);
    values(bn.getBuffer("running_mean")).forEach((v, i) => expect(v).toBeCloseTo(0.9 * 0.1 * mean[i]! + 0.1 * mean[i]!, 12));
    expect(values(bn.getBuffer("num_batches_tracked"))).toEqual([2]);
  });

  test("evaluation normalises with the running statistics and changes nothing", () => {
    const bn = new BatchNorm2d(2, { dtype: "float64" });
    bn.weight!.assign(T.tensor([2, 3], { dtype: "float64" }));
    bn.bias!.assign(T.tensor([1, -1], { dtype: "float64" }));
    bn.setBuffer("running_mean", T.tensor([1, 2], { dtype: "float64" }));
    bn.setBuffer("running_var", T.tensor([4, 9], { dtype: "float64" }));
    bn.eval();
    const x = randn64([2, 2, 3, 3], 1);
    const y = values(bn.forward(x));
    const xv = values(x);
    xv.forEach((v, i) => {
      const c = Math.floor(i / 9) % 2;
      const expected = c === 0 ? 2 * (v - 1) / Math.sqrt(4 + 1e-5) + 1 : 3 * (v - 2) / Math.sqrt(9 + 1e-5) - 1;
      expect(y[i]).toBeCloseTo(expected, 12);
    });
    expect(values(bn.getBuffer("running_mean"))).toEqual([1, 2]);
    expect(values(bn.getBuffer("num_batches_tracked"))).toEqual([0]);
  });

  test("momentum null averages all batches; affine and trackRunningStats can be turned off", () => {
    const bn = new BatchNorm1d(1, { momentum: null, dtype: "float64" });
    bn.forward(tensor([[1], [3]], { dtype: "float64" }));
    bn.forward(tensor([[5], [7]], { dtype: "float64" }));
    expect(values(bn.getBuffer("running_mean"))).toEqual([4]);
    const plain = new BatchNorm1d(3, { affine: false, trackRunningStats: false });
    expect(plain.parameters()).toEqual([]);
    expect(Object.keys(plain.stateDict())).toEqual([]);
    plain.eval();
    const y = values(plain.forward(tensor([[1, 2, 3], [3, 4, 5]], { dtype: "float32" })));
    y.forEach((v) => expect(Math.abs(v)).toBeCloseTo(1, 3));
  });

  test("state dict keys are PyTorch's", () => {
    expect(Object.keys(new BatchNorm2d(4).stateDict())).toEqual(["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]);
    expect(new BatchNorm2d(4).getBuffer("num_batches_tracked").shape).toEqual([]);
  });

  test("shape errors name the expected layout; a single value per channel cannot train", () => {
    expect(() => new BatchNorm1d(3).forward(new Tensor(T.zeros([2, 4])))).toThrow(/expected input \[N, C\] with C = 3, got \[2, 4\]/);
    expect(() => new BatchNorm1d(3).forward(new Tensor(T.zeros([2, 3, 4, 5])))).toThrow(/2-D \[N, C\] or 3-D/);
    expect(() => new BatchNorm2d(3).forward(new Tensor(T.zeros([2, 3])))).toThrow(/4-D \[N, C, H, W\]/);
    expect(() => new BatchNorm2d(3).forward(new Tensor(T.zeros([1, 3, 1, 1])))).toThrow(/more than 1 value per channel/);
    expect(() => new BatchNorm2d(3).eval().forward(new Tensor(T.zeros([1, 3, 1, 1])))).not.toThrow();
  });

  test("gradients pass gradcheck in training and evaluation mode (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.nat(1000), largeOffset, (n, c, seed, offset) => {
        T.tidy(() => {
          const bn1 = new BatchNorm1d(c, { dtype: "float64" });
          noGrad(() => {
            bn1.weight!.assign(randn64([c], seed + 7).value);
            bn1.bias!.assign(randn64([c], seed + 8).value);
          });
          checkLayer(bn1, randn64([n, c], seed, { requiresGrad: true }), offset, null);
          checkLayer(bn1, randn64([n, c, 3], seed + 1, { requiresGrad: true }), offset, null);
          const bn2 = new BatchNorm2d(c, { dtype: "float64" });
          checkLayer(bn2, randn64([n, c, 2, 3], seed + 2, { requiresGrad: true }), offset, null);
          bn2.eval();
          checkLayer(bn2, randn64([n, c, 2, 2], seed + 3, { requiresGrad: true }), offset);
        });
      }),
      runs,
    );
  });
});

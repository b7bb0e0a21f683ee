import { describe, expect, test } from "vitest";
import { Tensor } from "@backprop/autograd";
import * as T from "@backprop/tensor";
import { Conv2d, init, Linear, Parameter } from "../src/mod.ts";
import { values } from "./helpers.ts";

const param = (shape: number[], dtype: "float32" | "float64" = "float64") => new Parameter(T.zeros(shape, { dtype }));

function stats(xs: number[]): { mean: number; std: number; min: number; max: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
  return { mean, std: Math.sqrt(variance), min: Math.min(...xs), max: Math.max(...xs) };
}

describe("init", () => {
  test("gains and fans follow PyTorch", () => {
    expect(init.calculateGain("relu")).toBeCloseTo(Math.SQRT2, 15);
    expect(init.calculateGain("tanh")).toBeCloseTo(5 / 3, 15);
    expect(init.calculateGain("leaky_relu", Math.sqrt(5))).toBeCloseTo(Math.sqrt(1 / 3), 15);
    expect(init.calculateGain("linear")).toBe(1);
    expect(init.calculateFans([64, 3, 3, 3])).toEqual({ fanIn: 27, fanOut: 576 });
    expect(init.calculateFans([10, 20])).toEqual({ fanIn: 20, fanOut: 10 });
    expect(() => init.calculateFans([5])).toThrow(/at least 2 dimensions/);
  });

  test("uniform_, normal_, constant_, zeros_, ones_ write in place with the right distribution", () => {
    const p = param([100, 100]);
    expect(init.uniform_(p, -2, 3, { generator: new T.Generator(1) })).toBe(p);
    let s = stats(values(p));
    expect(s.min).toBeGreaterThanOrEqual(-2);
    expect(s.max).toBeLessThan(3);
    expect(s.mean).toBeCloseTo(0.5, 1);
    init.normal_(p, 1, 0.5, { generator: new T.Generator(2) });
    s = stats(values(p));
    expect(s.mean).toBeCloseTo(1, 1);
    expect(s.std).toBeCloseTo(0.5, 1);
    init.constant_(p, 7);
    expect(new Set(values(p))).toEqual(new Set([7]));
    init.zeros_(p);
    expect(new Set(values(p))).toEqual(new Set([0]));
    init.ones_(p);
    expect(new Set(values(p))).toEqual(new Set([1]));
    expect(() => init.uniform_(new Tensor(T.zeros([2], { dtype: "int32" })))).toThrow(/needs a float tensor/);
  });

  test("kaiming and xavier have PyTorch's bounds and standard deviations", () => {
    const w = param([200, 300]);
    init.kaimingUniform_(w, { generator: new T.Generator(3) });
    const bound = Math.sqrt(2) * Math.sqrt(3 / 300);
    let s = stats(values(w));
    expect(s.max).toBeLessThanOrEqual(bound);
    expect(s.min).toBeGreaterThanOrEqual(-bound);
    expect(s.max).toBeGreaterThan(0.99 * bound);
    init.kaimingNormal_(w, { mode: "fan_out", nonlinearity: "relu", generator: new T.Generator(4) });
    expect(stats(values(w)).std).toBeCloseTo(Math.sqrt(2 / 200), 2);
    init.xavierUniform_(w, { gain: 2, generator: new T.Generator(5) });
    s = stats(values(w));
    expect(s.max).toBeLessThanOrEqual(2 * Math.sqrt(6 / 500));
    expect(s.max).toBeGreaterThan(0.99 * 2 * Math.sqrt(6 / 500));
    init.xavierNormal_(w, { generator: new T.Generator(6) });
    expect(stats(values(w)).std).toBeCloseTo(Math.sqrt(2 / 500), 2);
  });

  test("seeded init is reproducible and leaves the default generator alone", () => {
    T.manualSeed(42);
    const a = new Linear(5, 4, { generator: new T.Generator(9) });
    const b = new Linear(5, 4, { generator: new T.Generator(9) });
    expect(values(a.weight)).toEqual(values(b.weight));
    expect(values(a.bias!)).toEqual(values(b.bias!));
    const next = values(T.rand([3]));
    T.manualSeed(42);
    expect(values(T.rand([3]))).toEqual(next);
  });

  test("Linear and Conv2d default init is U(−1/√fan_in, 1/√fan_in) for weight and bias", () => {
    const lin = new Linear(50, 400, { generator: new T.Generator(7) });
    for (const p of [lin.weight, lin.bias!]) {
      const s = stats(values(p));
      expect(s.max).toBeLessThanOrEqual(1 / Math.sqrt(50));
      expect(s.min).toBeGreaterThanOrEqual(-1 / Math.sqrt(50));
      expect(s.max).toBeGreaterThan(0.9 / Math.sqrt(50));
    }
    const conv = new Conv2d(4, 64, 3, { groups: 2, generator: new T.Generator(8) });
    expect(conv.weight.shape).toEqual([64, 2, 3, 3]);
    const s = stats(values(conv.weight));
    expect(s.max).toBeLessThanOrEqual(1 / Math.sqrt(18));
    expect(s.max).toBeGreaterThan(0.95 / Math.sqrt(18));
  });
});

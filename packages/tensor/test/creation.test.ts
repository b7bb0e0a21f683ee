import { describe, expect, test } from "vitest";
import {
  arange,
  DeviceError,
  DTypeError,
  eye,
  full,
  fullLike,
  Generator,
  linspace,
  ones,
  onesLike,
  rand,
  randint,
  randn,
  randperm,
  ShapeError,
  tensor,
  tidy,
  uniform,
  ValueError,
  zeros,
  zerosLike,
} from "../src/mod.ts";

describe("tensor()", () => {
  test("infers shape and dtype from nested arrays", () => {
    tidy(() => {
      const a = tensor([[1, 2, 3], [4, 5, 6]]);
      expect(a.shape).toEqual([2, 3]);
      expect(a.dtype).toBe("int32");
      expect(tensor([[1.5, 2]]).dtype).toBe("float32");
      expect(tensor([true, false]).dtype).toBe("bool");
      expect(tensor(3.5).shape).toEqual([]);
      expect(tensor(3.5).itemSync()).toBe(3.5);
      expect(tensor([]).shape).toEqual([0]);
      expect(tensor([]).dtype).toBe("float32");
      expect(tensor([[], []]).shape).toEqual([2, 0]);
      expect(tensor([1, 2], { dtype: "float64" }).dtype).toBe("float64");
      expect(tensor([1, 2, 3, 4], { shape: [2, 2] }).toArraySync()).toEqual([[1, 2], [3, 4]]);
      expect(tensor([1, 2], { device: "cpu" }).device).toBe("cpu");
    });
  });

  test("takes typed arrays (their dtype, or converted), viewed with `shape`", () => {
    tidy(() => {
      expect(tensor(new Float64Array([1, 2])).dtype).toBe("float64");
      expect(tensor(new Uint8Array([0, 3])).toArraySync()).toEqual([false, true]);
      const m = tensor(new Float32Array(6).fill(1), { shape: [3, 2] });
      expect(m.shape).toEqual([3, 2]);
      expect(tensor(new Float32Array([1.9, -1.9]), { dtype: "int32" }).toArraySync()).toEqual([1, -1]);
      // The array is copied: later writes to the source do not show.
      const src = new Float32Array([1, 2]);
      const t = tensor(src);
      src[0] = 9;
      expect(t.toArraySync()).toEqual([1, 2]);
    });
  });

  test("rejects ragged arrays, non-numbers, wrong sizes and unknown devices", () => {
    expect(() => tensor([[1, 2], [3]])).toThrow(ShapeError);
    expect(() => tensor([[1, 2], 3] as unknown as number[][])).toThrow(/ragged/);
    expect(() => tensor(["x"] as unknown as number[])).toThrow(DTypeError);
    expect(() => tensor(new Float32Array(5), { shape: [2, 2] })).toThrow(/needs 4 values, the data has 5/);
    expect(() => tensor([1], { device: "tpu" })).toThrow(DeviceError);
    expect(() => tensor([1], { device: "webgpu" })).toThrow(/initWebGPU/);
  });
});

describe("filled arrays", () => {
  test("zeros, ones, full and the *Like variants", () => {
    tidy(() => {
      expect(zeros([2, 3]).dtype).toBe("float32");
      expect(zeros([2, 3]).toArraySync()).toEqual([[0, 0, 0], [0, 0, 0]]);
      expect(ones([2], { dtype: "int32" }).toArraySync()).toEqual([1, 1]);
      expect(full([], 7).toArraySync()).toBe(7);
      expect(full([2], 2.7, { dtype: "int32" }).toArraySync()).toEqual([2, 2]);
      expect(full([1], 0.5, { dtype: "bool" }).toArraySync()).toEqual([true]);
      expect(zeros([0, 4]).size).toBe(0);
      const x = tensor([[1, 2]], { dtype: "float64" });
      expect(zerosLike(x).dtype).toBe("float64");
      expect(onesLike(x, { dtype: "int32" }).toArraySync()).toEqual([[1, 1]]);
      expect(fullLike(x, 4).toArraySync()).toEqual([[4, 4]]);
      expect(() => zeros([2, -1])).toThrow(ValueError);
      expect(() => zeros([1.5])).toThrow(ValueError);
    });
  });

  test("arange, linspace, eye", () => {
    tidy(() => {
      expect(arange(4).toArraySync()).toEqual([0, 1, 2, 3]);
      expect(arange(4).dtype).toBe("int32");
      expect(arange(1, 2, 0.25).toArraySync()).toEqual([1, 1.25, 1.5, 1.75]);
      expect(arange(1, 2, 0.25).dtype).toBe("float32");
      expect(arange(5, 0, -2).toArraySync()).toEqual([5, 3, 1]);
      expect(arange(3, 3).shape).toEqual([0]);
      expect(arange(0, 3, 1, { dtype: "float64" }).dtype).toBe("float64");
      expect(() => arange(0, 1, 0)).toThrow(ValueError);
      expect(linspace(0, 1, 5).toArraySync()).toEqual([0, 0.25, 0.5, 0.75, 1]);
      expect(linspace(2, 3, 1).toArraySync()).toEqual([2]);
      expect(linspace(2, 3, 0).shape).toEqual([0]);
      expect(eye(2).toArraySync()).toEqual([[1, 0], [0, 1]]);
      expect(eye(2, 3, { dtype: "int32" }).toArraySync()).toEqual([[1, 0, 0], [0, 1, 0]]);
    });
  });
});

describe("random creation", () => {
  test("rand/randn/uniform/randint/randperm draw from an explicit generator", () => {
    tidy(() => {
      const g = new Generator(42);
      const u = rand([1000], { generator: g });
      const values = u.dataSync();
      expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...values)).toBeLessThan(1);
      expect(randn([3, 4], { generator: g, dtype: "float64" }).dtype).toBe("float64");
      const w = uniform([500], -3, -1, { generator: g }).dataSync();
      expect(Math.min(...w)).toBeGreaterThanOrEqual(-3);
      expect(Math.max(...w)).toBeLessThan(-1);
      const r = randint(-2, 3, [1000], { generator: g }).dataSync();
      expect(new Set(r)).toEqual(new Set([-2, -1, 0, 1, 2]));
      const p = randperm(50, { generator: g }).dataSync();
      expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
      expect(randperm(0, { generator: g }).shape).toEqual([0]);
    });
  });

  test("rejects non-float random dtypes and bad ranges", () => {
    expect(() => rand([2], { dtype: "int32" })).toThrow(DTypeError);
    expect(() => randint(2, 1, [3])).toThrow(ValueError);
    expect(() => randint(0, 1.5, [3])).toThrow(ValueError);
    expect(() => randperm(-1)).toThrow(ValueError);
  });
});

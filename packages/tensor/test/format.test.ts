import { describe, expect, test } from "vitest";
import { arange, formatArray, tensor, tidy, zeros } from "../src/mod.ts";

const str = (f: () => { toString(): string }) => tidy(() => f().toString());

describe("printing follows PyTorch's layout", () => {
  test("floats: 4 decimals, aligned; whole numbers as `1.`; scientific when magnitudes span too much", () => {
    expect(str(() => tensor([[1, 2], [3, 4]], { dtype: "float32" }))).toBe(
      "tensor([[1., 2.],\n        [3., 4.]], dtype=float32)",
    );
    expect(str(() => tensor([-1.5, 20.25]))).toBe("tensor([-1.5000, 20.2500], dtype=float32)");
    expect(str(() => tensor(3.5))).toBe("tensor(3.5000, dtype=float32)");
    expect(str(() => tensor([1e-5, 1]))).toBe("tensor([1.0000e-05, 1.0000e+00], dtype=float32)");
    expect(str(() => tensor([1e9, 1], { dtype: "float32" }))).toBe("tensor([1.0000e+09, 1.0000e+00], dtype=float32)");
    expect(str(() => tensor([Number.NaN, Infinity, -Infinity, 1]))).toBe("tensor([ nan,  inf, -inf,   1.], dtype=float32)");
  });

  test("ints and bools, 3-D blocks separated by blank lines, dtype always shown", () => {
    expect(str(() => tensor([1, -2, 30]))).toBe("tensor([ 1, -2, 30], dtype=int32)");
    expect(str(() => tensor([true, false]))).toBe("tensor([ True, False], dtype=bool)");
    expect(str(() => tensor([[[1, 2]], [[3, 4]]], { dtype: "float64" }))).toBe(
      "tensor([[[1., 2.]],\n\n        [[3., 4.]]], dtype=float64)",
    );
  });

  test("empty arrays show their size", () => {
    expect(str(() => zeros([0, 3]))).toBe("tensor([], size=[0, 3], dtype=float32)");
  });

  test("more than 1000 elements: first and last three per dimension, with ellipses", () => {
    expect(str(() => arange(2000))).toBe("tensor([   0,    1,    2,  ..., 1997, 1998, 1999], dtype=int32)");
    const lines = str(() => arange(1600).reshape(40, 40)).split("\n");
    expect(lines).toHaveLength(7);
    expect(lines[0]).toBe("tensor([[   0,    1,    2,  ...,   37,   38,   39],");
    expect(lines[3]).toBe("        ...,");
    expect(lines[6]).toBe("        [1560, 1561, 1562,  ..., 1597, 1598, 1599]], dtype=int32)");
    // Exactly 1000 elements print in full.
    expect(str(() => arange(1000)).includes("...")).toBe(false);
  });

  test("other devices are named; the formatter works on raw data", () => {
    expect(formatArray(new Float32Array([1, 2]), [2], "float32", "webgpu")).toBe("tensor([1., 2.], dtype=float32, device=webgpu)");
    const t = tensor([1]);
    t.dispose();
    expect(t.toString()).toBe("tensor(<disposed>, shape=[1])");
  });
});

import { describe, expect, test } from "vitest";
import {
  add,
  arange,
  div,
  DTypeError,
  type DType,
  DTYPES,
  isFloat,
  logicalNot,
  matmul,
  mean,
  mul,
  pow,
  promoteTypes,
  sub,
  sum,
  tensor,
  tidy,
  where,
  zeros,
} from "../src/mod.ts";

const arr = (dtype: DType, shape: number[] = [2]) => zeros(shape, { dtype });

describe("promotion of two arrays", () => {
  test("bool < int32 < float32 < float64", () => {
    const order: DType[] = ["bool", "int32", "float32", "float64"];
    for (const [i, a] of order.entries()) {
      for (const [j, b] of order.entries()) {
        expect(promoteTypes(a, b)).toBe(order[Math.max(i, j)]);
        tidy(() => expect(add(arr(a), arr(b)).dtype).toBe(order[Math.max(i, j)] === "bool" ? "bool" : order[Math.max(i, j)]));
      }
    }
    expect(DTYPES).toEqual(["float32", "float64", "int32", "bool"]);
    expect(DTYPES.filter(isFloat)).toEqual(["float32", "float64"]);
  });

  test("a 0-d array decides only when its category is higher (PyTorch result_type)", () => {
    tidy(() => {
      expect(add(arr("float32"), tensor(1.5, { dtype: "float64" })).dtype).toBe("float32");
      expect(add(arr("int32"), tensor(1.5, { dtype: "float64" })).dtype).toBe("float64");
      expect(add(arr("int32"), tensor(2.5, { dtype: "float32" })).toArraySync()).toEqual([2.5, 2.5]);
      expect(add(arr("bool"), tensor(3)).dtype).toBe("int32");
      expect(add(arr("float64"), tensor(3)).dtype).toBe("float64");
      expect(add(tensor(1, { dtype: "float64" }), tensor(1, { dtype: "float32" })).dtype).toBe("float64");
    });
  });
});

describe("JS numbers are weak scalars", () => {
  test("a number keeps the array's dtype unless it needs a higher category", () => {
    tidy(() => {
      expect(add(arr("float32"), 1e10).dtype).toBe("float32");
      expect(add(arr("float64"), 0.5).dtype).toBe("float64");
      expect(add(arr("int32"), 2).dtype).toBe("int32");
      expect(add(arr("int32"), 2.5).dtype).toBe("float32");
      expect(add(arr("bool"), 2).dtype).toBe("int32");
      expect(add(arr("bool"), true).dtype).toBe("bool");
      expect(mul(3, arr("int32")).dtype).toBe("int32");
      // JS cannot tell 2.0 from 2: both are integers.
      expect(add(arr("int32"), 2.0).dtype).toBe("int32");
    });
  });

  test("where with two numbers takes the smallest dtype that holds both", () => {
    tidy(() => {
      const cond = tensor([true, false]);
      expect(where(cond, 1, 0).dtype).toBe("int32");
      expect(where(cond, 1, 0.5).toArraySync()).toEqual([1, 0.5]);
      expect(where(cond, true, false).dtype).toBe("bool");
      expect(where(cond, arr("float64"), 1).dtype).toBe("float64");
    });
  });
});

describe("operation-specific rules", () => {
  test("integer division is true division into float32", () => {
    tidy(() => {
      const q = div(tensor([1, 7, -7]), tensor([2, 2, 2]));
      expect(q.dtype).toBe("float32");
      expect(q.toArraySync()).toEqual([0.5, 3.5, -3.5]);
      expect(div(tensor([true]), tensor([true])).dtype).toBe("float32");
      expect(div(arr("float64"), 2).dtype).toBe("float64");
    });
  });

  test("comparisons give bool; bool arithmetic is logical; bool subtraction is an error", () => {
    tidy(() => {
      expect(tensor([1, 2]).lt(tensor([2.5, 1.5])).dtype).toBe("bool");
      const t = tensor([true, true, false, false]), f = tensor([true, false, true, false]);
      expect(add(t, f).toArraySync()).toEqual([true, true, true, false]);
      expect(mul(t, f).toArraySync()).toEqual([true, false, false, false]);
      expect(() => sub(t, f)).toThrow(DTypeError);
      expect(pow(t, f).dtype).toBe("int32");
    });
  });

  test("unary ops: integral ops keep int32, others compute in float32", () => {
    tidy(() => {
      const i = tensor([-2, 3]);
      expect(i.abs().dtype).toBe("int32");
      expect(i.neg().toArraySync()).toEqual([2, -3]);
      expect(i.exp().dtype).toBe("float32");
      expect(i.sqrt().dtype).toBe("float32");
      expect(tensor([true, false]).abs().dtype).toBe("int32");
      expect(logicalNot(tensor([1.5])).dtype).toBe("bool");
      expect(() => tensor([true]).neg()).toThrow(/use logicalNot/);
    });
  });

  test("reductions: bool sums count in int32, means of integers are float32", () => {
    tidy(() => {
      expect(sum(tensor([true, true, false])).toArraySync()).toBe(2);
      expect(sum(tensor([true])).dtype).toBe("int32");
      expect(mean(tensor([1, 2])).toArraySync()).toBe(1.5);
      expect(mean(tensor([1, 2])).dtype).toBe("float32");
      expect(tensor([1, 2, 3]).argmax().dtype).toBe("int32");
    });
  });

  test("matmul promotes and rejects bool", () => {
    tidy(() => {
      expect(matmul(arange(4).reshape(2, 2), arange(4).reshape(2, 2)).toArraySync()).toEqual([[2, 3], [6, 11]]);
      expect(matmul(arr("int32", [2, 2]), arr("float64", [2, 2])).dtype).toBe("float64");
      expect(() => matmul(arr("bool", [2, 2]), arr("bool", [2, 2]))).toThrow(DTypeError);
    });
  });

  test("casts: float → int32 truncates toward zero, anything → bool is ≠ 0", () => {
    tidy(() => {
      expect(tensor([-2.7, -0.5, 0.5, 2.7]).cast("int32").toArraySync()).toEqual([-2, 0, 0, 2]);
      expect(tensor([-2, 0, 0.1, Number.NaN]).cast("bool").toArraySync()).toEqual([true, false, true, true]);
      expect(tensor([true, false]).cast("float64").toArraySync()).toEqual([1, 0]);
      expect(tensor([0.1], { dtype: "float64" }).cast("float32").dataSync()[0]).toBe(Math.fround(0.1));
      const x = tensor([1, 2]);
      expect(x.cast("int32")).toBe(x);
      expect(x.cast("int32", true)).not.toBe(x);
    });
  });
});

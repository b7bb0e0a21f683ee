import { describe, expect, test } from "vitest";
import { arange, type NDArray, ShapeError, split, tensor, tidy, ValueError, zeros } from "../src/mod.ts";

/** A [2, 3, 4] int32 array holding 0 … 23. */
const base = (): NDArray => arange(24).reshape(2, 3, 4);

const sharesStorage = (a: NDArray, b: NDArray) => a.storage === b.storage;

describe("reshape", () => {
  test("of a contiguous array is a view", () => {
    tidy(() => {
      const x = base();
      const r = x.reshape(6, 4);
      expect(sharesStorage(x, r)).toBe(true);
      expect(r.shape).toEqual([6, 4]);
      expect(r.toArraySync()).toEqual(Array.from({ length: 6 }, (_, i) => [0, 1, 2, 3].map((j) => i * 4 + j)));
    });
  });

  test("infers one -1 and accepts a shape array or arguments", () => {
    tidy(() => {
      expect(base().reshape(-1).shape).toEqual([24]);
      expect(base().reshape([4, -1]).shape).toEqual([4, 6]);
      expect(base().reshape(2, -1, 2).shape).toEqual([2, 6, 2]);
      expect(zeros([0, 3]).reshape(-1, 3).shape).toEqual([0, 3]);
      expect(tensor(5).reshape([1, 1]).shape).toEqual([1, 1]);
      expect(tensor([5]).reshape([]).shape).toEqual([]);
    });
  });

  test("of a transposed array copies when strides cannot express it, views when they can", () => {
    tidy(() => {
      const t = base().permute(2, 0, 1); // [4, 2, 3]
      const flat = t.reshape(-1);
      expect(sharesStorage(flat, t)).toBe(false);
      expect(flat.dataSync()).toEqual(Int32Array.from([0, 4, 8, 12, 16, 20, 1, 5, 9, 13, 17, 21, 2, 6, 10, 14, 18, 22, 3, 7, 11, 15, 19, 23]));
      // Merging the last two dims of [4, 2, 3] (strides 1, 12, 4) is possible: 12 = 3 · 4.
      const merged = t.reshape(4, 6);
      expect(sharesStorage(merged, t)).toBe(true);
      expect(merged.toArraySync()).toEqual(flat.reshape(4, 6).toArraySync());
      // Merging dims of a strided slice is a view too, when their strides chain.
      const x = base();
      const s = x.slice(2, 0, 4, 2).reshape(6, 2, 1);
      expect(sharesStorage(s, x)).toBe(true);
      expect(s.dataSync()).toEqual(Int32Array.from([0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22]));
    });
  });

  test("rejects sizes that do not match", () => {
    expect(() => base().reshape(5, 5)).toThrow(ShapeError);
    expect(() => base().reshape(-1, 5)).toThrow(/cannot reshape \[2, 3, 4\] \(24 elements\) into \[-1, 5\]/);
    expect(() => base().reshape(-1, -1)).toThrow(ValueError);
    expect(() => base().reshape(2.5, 2)).toThrow(ValueError);
  });
});

describe("permute, transpose, T", () => {
  test("permute reorders dims without copying", () => {
    tidy(() => {
      const x = base();
      const p = x.permute(2, 0, 1);
      expect(p.shape).toEqual([4, 2, 3]);
      expect(p.strides).toEqual([1, 12, 4]);
      expect(sharesStorage(x, p)).toBe(true);
      expect(p.isContiguous()).toBe(false);
      expect(x.permute([-1, -3, -2]).shape).toEqual([4, 2, 3]);
    });
  });

  test("transpose defaults to the last two dims; T needs rank ≤ 2", () => {
    tidy(() => {
      expect(base().transpose().shape).toEqual([2, 4, 3]);
      expect(base().transpose(0, 2).shape).toEqual([4, 3, 2]);
      const m = tensor([[1, 2, 3], [4, 5, 6]]);
      expect(m.T.toArraySync()).toEqual([[1, 4], [2, 5], [3, 6]]);
      const v = tensor([1, 2]);
      expect(v.T).toBe(v);
      expect(() => base().T).toThrow(ShapeError);
    });
  });

  test("rejects a non-permutation", () => {
    expect(() => base().permute(0, 1)).toThrow(/not a permutation/);
    expect(() => base().permute(0, 0, 1)).toThrow(ValueError);
  });
});

describe("narrow, slice, select", () => {
  test("narrow is a view of a contiguous range", () => {
    tidy(() => {
      const x = base();
      const n = x.narrow(2, 1, 2);
      expect(n.shape).toEqual([2, 3, 2]);
      expect(n.offset).toBe(1);
      expect(sharesStorage(x, n)).toBe(true);
      expect(n.toArraySync()).toEqual([[[1, 2], [5, 6], [9, 10]], [[13, 14], [17, 18], [21, 22]]]);
      expect(x.narrow(-1, -2, 2).toArraySync()).toEqual(x.narrow(2, 2, 2).toArraySync());
      expect(x.narrow(0, 2, 0).shape).toEqual([0, 3, 4]);
      expect(() => x.narrow(0, 1, 2)).toThrow(/do not fit dimension 0 of size 2/);
    });
  });

  test("slice follows Python: steps, negative and clamped bounds", () => {
    tidy(() => {
      const v = arange(10);
      const cases: [number | undefined, number | undefined, number, number[]][] = [
        [undefined, undefined, 1, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]],
        [2, 8, 3, [2, 5]],
        [-3, undefined, 1, [7, 8, 9]],
        [undefined, -7, 2, [0, 2]],
        [-100, 100, 4, [0, 4, 8]],
        [5, 2, 1, []],
        [9, undefined, 5, [9]],
      ];
      for (const [start, end, step, expected] of cases) {
        expect(v.slice(0, start, end, step).toArraySync()).toEqual(expected);
      }
      const m = base().slice(1, 0, 3, 2);
      expect(m.shape).toEqual([2, 2, 4]);
      expect(m.strides).toEqual([12, 8, 1]);
      expect(() => v.slice(0, 0, 5, 0)).toThrow(ValueError);
      expect(() => v.slice(0, 0, 5, -1)).toThrow(/step must be a positive integer/);
    });
  });

  test("select removes the dimension and takes negative indices", () => {
    tidy(() => {
      const x = base();
      expect(x.select(1, -1).toArraySync()).toEqual([[8, 9, 10, 11], [20, 21, 22, 23]]);
      expect(x.select(0, 1).select(0, 2).select(0, 3).shape).toEqual([]);
      expect(x.select(0, 1).select(0, 2).select(0, 3).itemSync()).toBe(23);
      expect(() => x.select(0, 2)).toThrow(/index 2 is out of range for dimension 0 of size 2/);
    });
  });

  test("split gives narrow views", () => {
    tidy(() => {
      const parts = split(arange(7), 3);
      expect(parts.map((p) => p.toArraySync())).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
      expect(split(arange(7), [2, 5]).map((p) => p.shape[0])).toEqual([2, 5]);
      expect(() => split(arange(7), [2, 2])).toThrow(ShapeError);
    });
  });
});

describe("expand, squeeze, unsqueeze, flatten", () => {
  test("expand broadcasts size-1 dims with stride 0 and adds leading dims", () => {
    tidy(() => {
      const col = tensor([[1], [2]]);
      const e = col.expand(3, 2, 4);
      expect(e.shape).toEqual([3, 2, 4]);
      expect(e.strides).toEqual([0, 1, 0]);
      expect(e.toArraySync()).toEqual(Array(3).fill([[1, 1, 1, 1], [2, 2, 2, 2]]));
      expect(col.expand(-1, 3).shape).toEqual([2, 3]);
      expect(tensor(7).expand([2, 2]).toArraySync()).toEqual([[7, 7], [7, 7]]);
      expect(col.expand([2, 0]).shape).toEqual([2, 0]);
      expect(col.expandAs(zeros([5, 2, 6])).shape).toEqual([5, 2, 6]);
    });
  });

  test("expand rejects growing a non-1 dim, fewer dims and -1 in a new dim", () => {
    const col = tensor([[1], [2]]);
    expect(() => col.expand(3, 1)).toThrow(ShapeError);
    expect(() => col.expand(4)).toThrow(/fewer dimensions/);
    expect(() => col.expand(-1, 2, 3)).toThrow(ValueError);
    expect(() => col.expand(2, -2)).toThrow(ValueError);
  });

  test("squeeze removes size-1 dims (all or given); unsqueeze inserts one", () => {
    tidy(() => {
      const x = zeros([1, 3, 1, 2]);
      expect(x.squeeze().shape).toEqual([3, 2]);
      expect(x.squeeze(0).shape).toEqual([3, 1, 2]);
      expect(x.squeeze([-2, 1]).shape).toEqual([1, 3, 2]); // dim 1 has size 3: left alone, as PyTorch
      expect(tensor(1).squeeze().shape).toEqual([]);
      expect(x.unsqueeze(0).shape).toEqual([1, 1, 3, 1, 2]);
      expect(x.unsqueeze(-1).shape).toEqual([1, 3, 1, 2, 1]);
      expect(x.unsqueeze(4).shape).toEqual([1, 3, 1, 2, 1]);
      expect(tensor(1).unsqueeze(0).shape).toEqual([1]);
      expect(() => x.unsqueeze(6)).toThrow(ValueError);
      const t = base().transpose(0, 2).unsqueeze(1);
      expect(t.toArraySync()).toEqual(base().transpose(0, 2).contiguous().unsqueeze(1).toArraySync());
    });
  });

  test("flatten merges a range of dims (a view when contiguous)", () => {
    tidy(() => {
      const x = base();
      expect(x.flatten().shape).toEqual([24]);
      expect(sharesStorage(x.flatten(), x)).toBe(true);
      expect(x.flatten(1).shape).toEqual([2, 12]);
      expect(x.flatten(0, 1).shape).toEqual([6, 4]);
      expect(x.flatten(-2, -1).shape).toEqual([2, 12]);
      expect(tensor(3).flatten().shape).toEqual([1]);
      expect(x.permute(1, 0, 2).flatten().dataSync()).toEqual(
        Int32Array.from([0, 1, 2, 3, 12, 13, 14, 15, 4, 5, 6, 7, 16, 17, 18, 19, 8, 9, 10, 11, 20, 21, 22, 23]),
      );
      expect(() => x.flatten(2, 1)).toThrow(ValueError);
    });
  });
});

describe("contiguous and clone", () => {
  test("contiguous returns the array itself when already contiguous, else a row-major copy", () => {
    tidy(() => {
      const x = base();
      expect(x.contiguous()).toBe(x);
      const t = x.transpose(0, 1);
      const c = t.contiguous();
      expect(c).not.toBe(t);
      expect(c.isContiguous()).toBe(true);
      expect(c.strides).toEqual([8, 4, 1]);
      expect(c.toArraySync()).toEqual(t.toArraySync());
      // A contiguous-looking window that does not start its storage is copied too: kernels that take a
      // Storage read it from element 0.
      const tail = x.narrow(0, 1, 1);
      expect(tail.isContiguous()).toBe(false);
      expect(tail.contiguous().dataSync()).toEqual(Int32Array.from({ length: 12 }, (_, i) => 12 + i));
    });
  });

  test("clone copies even a contiguous array", () => {
    tidy(() => {
      const x = base();
      const c = x.clone();
      expect(c).not.toBe(x);
      expect(sharesStorage(c, x)).toBe(false);
      expect(c.dataSync()).toEqual(x.dataSync());
    });
  });

  test("writes through a view reach the base (views share storage)", () => {
    tidy(() => {
      const x = zeros([2, 2]);
      const row = x.select(0, 1);
      x.backend.copy(tensor([5, 6], { dtype: "float32" }), row);
      expect(x.toArraySync()).toEqual([[0, 0], [5, 6]]);
    });
  });
});

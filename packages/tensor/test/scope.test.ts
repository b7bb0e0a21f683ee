import { describe, expect, test } from "vitest";
import { cpuBackend, DisposedError, Generator, keep, type NDArray, OWNED_ARRAYS, randn, tensor, tidy, zeros } from "../src/mod.ts";

const storages = () => cpuBackend.memory().storages;

describe("dispose", () => {
  test("frees the storage once no view uses it; twice is harmless", () => {
    const before = cpuBackend.memory();
    const a = zeros([4, 4]);
    expect(cpuBackend.memory()).toEqual({ storages: before.storages + 1, bytes: before.bytes + 64 });
    const v = a.reshape(16);
    a.dispose();
    a.dispose();
    expect(a.isDisposed).toBe(true);
    expect(storages()).toBe(before.storages + 1);
    expect(v.dataSync()).toHaveLength(16);
    v.dispose();
    expect(cpuBackend.memory()).toEqual(before);
  });

  test("a disposed array cannot be used", async () => {
    const a = tensor([1, 2]);
    a.dispose();
    expect(() => a.add(1)).toThrow(DisposedError);
    expect(() => a.dataSync()).toThrow(/dataSync: the array of shape \[2\] was disposed/);
    await expect(a.data()).rejects.toThrow(DisposedError);
  });
});

describe("tidy", () => {
  test("disposes what fn created except its result; the result moves to the enclosing scope", () => {
    const before = storages();
    const outer = tidy(() => {
      const inner = tidy(() => {
        const x = zeros([2]);
        const y = x.add(1);
        return y.mul(2);
      });
      expect(inner.isDisposed).toBe(false);
      expect(storages()).toBe(before + 1);
      return inner.sum();
    });
    // `inner` belonged to the outer scope, which did not return it.
    expect(storages()).toBe(before + 1);
    expect(outer.itemSync()).toBe(4);
    outer.dispose();
    expect(storages()).toBe(before);
  });

  test("finds results inside arrays, plain objects, Maps and OWNED_ARRAYS holders", () => {
    const before = storages();
    class Holder {
      constructor(readonly value: NDArray) {}
      *[OWNED_ARRAYS]() {
        yield this.value;
      }
    }
    const r = tidy(() => ({ list: [zeros([1])], map: new Map([["k", zeros([2])]]), holder: new Holder(zeros([3])), junk: zeros([4]).size }));
    expect(storages()).toBe(before + 3);
    for (const a of [r.list[0]!, r.map.get("k")!, r.holder.value]) a.dispose();
    expect(storages()).toBe(before);
  });

  test("keep() exempts an array from every enclosing scope", () => {
    const before = storages();
    let kept!: NDArray;
    tidy(() => {
      tidy(() => {
        kept = keep(zeros([3]));
        zeros([5]);
      });
    });
    expect(kept.isDisposed).toBe(false);
    expect(storages()).toBe(before + 1);
    kept.dispose();
  });

  test("disposes on throw, and refuses async functions", () => {
    const before = storages();
    expect(() =>
      tidy(() => {
        zeros([2]);
        throw new Error("boom");
      })
    ).toThrow("boom");
    expect(storages()).toBe(before);
    expect(() => tidy(() => Promise.resolve(zeros([1])) as never)).toThrow(/synchronous/);
    expect(storages()).toBe(before);
  });

  test("memory stays flat over many training-like steps (leak test)", () => {
    const g = new Generator(0);
    const w = keep(randn([16, 8], { generator: g }));
    const before = cpuBackend.memory();
    for (let step = 0; step < 200; step++) {
      tidy(() => {
        const x = randn([4, 16], { generator: g });
        const logits = x.matmul(w).relu();
        const loss = logits.logSoftmax(-1).mean();
        // An update of a kept parameter: the old one is disposed by hand, the new one kept.
        const grad = x.T.matmul(logits.sub(loss)).mul(1e-3);
        const next = keep(w.sub(grad));
        next.dispose();
        return loss.itemSync();
      });
      if (step % 50 === 0) expect(cpuBackend.memory()).toEqual(before);
    }
    expect(cpuBackend.memory()).toEqual(before);
    w.dispose();
  });
});

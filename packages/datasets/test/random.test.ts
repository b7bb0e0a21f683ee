import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ValueError } from "@backprop/tensor";
import { Xoshiro128 } from "../src/mod.ts";

describe("Xoshiro128", () => {
  test("matches the reference xoshiro128** output from state [1, 2, 3, 4]", () => {
    const generator = Xoshiro128.fromState([1, 2, 3, 4]);
    const outputs = Array.from({ length: 8 }, () => generator.nextUint32());
    // From the authors' C implementation (prng.di.unimi.it/xoshiro128starstar.c).
    expect(outputs).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849]);
    expect(generator.getState()).toEqual([857776784, 3957087773, 2428778008, 3837013768]);
  });

  test("a seed and stream give one sequence; other seeds and streams give others", () => {
    const take = (g: Xoshiro128) => Array.from({ length: 4 }, () => g.nextUint32());
    expect(take(new Xoshiro128(42))).toEqual(take(new Xoshiro128(42)));
    expect(take(new Xoshiro128(42))).not.toEqual(take(new Xoshiro128(43)));
    expect(take(new Xoshiro128(42, 0))).not.toEqual(take(new Xoshiro128(42, 1)));
    expect(take(new Xoshiro128(2 ** 40))).not.toEqual(take(new Xoshiro128(0)));
  });

  test("getState/setState resume the sequence exactly, through JSON", () => {
    const generator = new Xoshiro128(7);
    generator.nextUint32();
    const saved = JSON.parse(JSON.stringify(generator.getState()));
    const expected = Array.from({ length: 5 }, () => generator.nextUint32());
    const resumed = Xoshiro128.fromState(saved);
    expect(Array.from({ length: 5 }, () => resumed.nextUint32())).toEqual(expected);
  });

  test("rejects bad seeds and states", () => {
    expect(() => new Xoshiro128(1.5)).toThrow(ValueError);
    expect(() => Xoshiro128.fromState([0, 0, 0, 0])).toThrow(/all zero/);
    expect(() => Xoshiro128.fromState([1, 2, 3] as never)).toThrow(/four uint32/);
    expect(() => Xoshiro128.fromState([1, 2, 3, 2 ** 32])).toThrow(/four uint32/);
  });

  test("nextBelow stays in range and is roughly uniform", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 2 ** 32 }), fc.integer(), (n, seed) => {
      const generator = new Xoshiro128(seed);
      for (let i = 0; i < 20; i++) {
        const x = generator.nextBelow(n);
        if (!(Number.isInteger(x) && x >= 0 && x < n)) return false;
      }
      return true;
    }));
    const generator = new Xoshiro128(1);
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 100_000; i++) counts[generator.nextBelow(10)]++;
    for (const count of counts) expect(Math.abs(count - 10_000)).toBeLessThan(500);
    expect(() => generator.nextBelow(0)).toThrow(ValueError);
  });

  test("shuffle returns a permutation", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 300 }), fc.integer(), (n, seed) => {
      const array = Int32Array.from({ length: n }, (_, i) => i);
      new Xoshiro128(seed).shuffle(array);
      return [...array].sort((a, b) => a - b).every((v, i) => v === i);
    }));
  });
});

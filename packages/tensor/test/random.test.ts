import { describe, expect, test } from "vitest";
import { defaultGenerator, Generator, manualSeed, philox4x32, philoxBlock, rand, randn, tensor, tidy, ValueError } from "../src/mod.ts";
import { refPhilox4x32 } from "../src/testing/mod.ts";

const hex = (words: ArrayLike<number>) => Array.from(words, (w) => (w >>> 0).toString(16).padStart(8, "0")).join(" ");

describe("Philox-4x32-10", () => {
  // Known-answer vectors published with Random123 (kat_vectors, philox4x32 with 10 rounds).
  const KAT: [[number, number, number, number], [number, number], string][] = [
    [[0, 0, 0, 0], [0, 0], "6627e8d5 e169c58d bc57ac4c 9b00dbd8"],
    [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], "408f276d 41c83b0e a20bc7c6 6d5451fd"],
    [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], "d16cfe09 94fdcceb 5001e420 24126ea1"],
  ];

  test.each(KAT)("counter %j, key %j → %s", (counter, key, expected) => {
    expect(hex(philox4x32(counter, key))).toBe(expected);
    // The BigInt reference the conformance suite uses agrees.
    expect(hex(refPhilox4x32(counter, key))).toBe(expected);
  });

  test("block i of a stream is the counter [i mod 2^32, ⌊i / 2^32⌋, 0, 0]", () => {
    const out = new Uint32Array(8);
    philoxBlock(7, 9, 0, out, 0);
    philoxBlock(7, 9, 2 ** 32 + 5, out, 4);
    expect(hex(out.subarray(0, 4))).toBe(hex(philox4x32([0, 0, 0, 0], [7, 9])));
    expect(hex(out.subarray(4))).toBe(hex(philox4x32([5, 1, 0, 0], [7, 9])));
  });
});

describe("Generator", () => {
  test("same seed, same stream; different seeds differ", () => {
    tidy(() => {
      const a = rand([64], { generator: new Generator(1) }).dataSync();
      const b = rand([64], { generator: new Generator(1) }).dataSync();
      const c = rand([64], { generator: new Generator(2) }).dataSync();
      expect(b).toEqual(a);
      expect(c).not.toEqual(a);
    });
  });

  test("every draw advances the state by whole blocks (pairs of values)", () => {
    const g = new Generator(3);
    tidy(() => {
      rand([5], { generator: g }); // 6 words (pairs) → 2 blocks
      expect(g.counter).toBe(2);
      randn([4], { generator: g, dtype: "float64" }); // 8 words → 2 blocks
      expect(g.counter).toBe(4);
      rand([0], { generator: g });
      expect(g.counter).toBe(4);
    });
  });

  test("getState/setState reproduce the stream from any point", () => {
    tidy(() => {
      const g = new Generator(123);
      rand([10], { generator: g });
      const state = g.getState();
      const first = randn([7, 3], { generator: g }).dataSync();
      const second = rand([5], { generator: g, dtype: "float64" }).dataSync();
      // A saved state is a copy: later draws do not change it.
      expect(state.counter).toBeLessThan(g.counter);
      const h = new Generator(999);
      h.setState(JSON.parse(JSON.stringify(state)));
      expect(randn([7, 3], { generator: h }).dataSync()).toEqual(first);
      expect(rand([5], { generator: h, dtype: "float64" }).dataSync()).toEqual(second);
      expect(h.getState()).toEqual(g.getState());
    });
  });

  test("manualSeed re-seeds the default generator; large seeds use both key words", () => {
    tidy(() => {
      manualSeed(5);
      const a = rand([8]).dataSync();
      manualSeed(5);
      expect(rand([8]).dataSync()).toEqual(a);
      expect(defaultGenerator().counter).toBe(2);
      expect(new Generator(2 ** 40 + 1).key).toEqual([1, 256]);
      expect(() => new Generator(-1)).toThrow(ValueError);
      expect(() => manualSeed(1.5)).toThrow(ValueError);
    });
  });

  test("float32 uniforms use the top 24 bits of each word", () => {
    const words = new Uint32Array(4);
    philoxBlock(0, 0, 0, words, 0);
    tidy(() => {
      const g = new Generator(0);
      const u = rand([4], { generator: g }).dataSync();
      expect(Array.from(u)).toEqual(Array.from(words, (w) => (w >>> 8) / 2 ** 24));
      expect(tensor(Array.from(u)).dtype).toBe("float32");
    });
  });
});

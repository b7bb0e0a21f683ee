/**
 * The seeded generator behind shuffling and augmentation: xoshiro128** 1.1 (Blackman & Vigna, 2018),
 * 128 bits of state in four uint32 words, period 2^128 − 1, 32-bit output.
 *
 * Seeding: the four state words are four consecutive outputs of SplitMix32 (a Weyl sequence with step
 * 0x9E3779B9 passed through MurmurHash3's 32-bit finaliser) whose counter starts at
 * `low32(seed) ^ fmix32(high32(seed) ^ fmix32(stream))`. `stream` separates independent sequences drawn from
 * one user seed (the train, validation and test sets each shuffle with their own stream).
 *
 * Integers below `n` use rejection sampling (`x % n` for `x` below the largest multiple of `n` under 2^32),
 * so they carry no modulo bias. The exact sequence is part of the package's contract: a seeded run
 * reproduces bit for bit across runtimes.
 */
import { ValueError } from "@backprop/tensor";

/** A generator's complete state: four uint32 words, JSON-serialisable. */
export type GeneratorState = [number, number, number, number];

const TWO_POW_32 = 4294967296;

function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** xoshiro128** generator. */
export class Xoshiro128 {
  #s0 = 0;
  #s1 = 0;
  #s2 = 0;
  #s3 = 0;

  /** A generator seeded from a safe integer `seed` and a stream number. */
  constructor(seed: number, stream = 0) {
    if (!Number.isSafeInteger(seed)) {
      throw new ValueError(`Xoshiro128: seed must be a safe integer, got ${seed}`);
    }
    if (!Number.isSafeInteger(stream)) {
      throw new ValueError(`Xoshiro128: stream must be a safe integer, got ${stream}`);
    }
    const low = seed >>> 0;
    const high = Math.floor(seed / TWO_POW_32) >>> 0;
    let counter = (low ^ fmix32(high ^ fmix32(stream >>> 0))) >>> 0;
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      counter = (counter + 0x9e3779b9) >>> 0;
      words.push(fmix32(counter));
    }
    this.setState(words as GeneratorState);
  }

  /** A generator that continues from `state`. */
  static fromState(state: GeneratorState): Xoshiro128 {
    const generator = new Xoshiro128(0);
    generator.setState(state);
    return generator;
  }

  /** The next uniformly distributed uint32. */
  nextUint32(): number {
    const s0 = this.#s0, s1 = this.#s1;
    let s2 = this.#s2, s3 = this.#s3;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    this.#s1 = (s1 ^ s2) >>> 0;
    this.#s0 = (s0 ^ s3) >>> 0;
    this.#s2 = (s2 ^ t) >>> 0;
    this.#s3 = rotl(s3, 11) >>> 0;
    return result;
  }

  /** A uniformly distributed integer in [0, n), for an integer 1 <= n <= 2^32. */
  nextBelow(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new ValueError(`nextBelow: n must be an integer in [1, 2^32], got ${n}`);
    }
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** A uniformly distributed float in [0, 1) with 32 random bits. */
  nextFloat(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** Shuffles `array` in place (Fisher–Yates, from the last element down) and returns it. */
  shuffle<T extends { length: number; [index: number]: number }>(array: T): T {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.nextBelow(i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }

  /** The complete state, to checkpoint. */
  getState(): GeneratorState {
    return [this.#s0, this.#s1, this.#s2, this.#s3];
  }

  /** Restores a state returned by {@link getState}. */
  setState(state: GeneratorState): void {
    if (
      !Array.isArray(state) || state.length !== 4 ||
      !state.every((w) => Number.isInteger(w) && w >= 0 && w < TWO_POW_32)
    ) {
      throw new ValueError(
        `Xoshiro128.setState: expected four uint32 words, got ${JSON.stringify(state)}`,
      );
    }
    if (state.every((w) => w === 0)) {
      throw new ValueError("Xoshiro128.setState: expected a state that is not all zero (xoshiro never leaves that state), got [0, 0, 0, 0]");
    }
    [this.#s0, this.#s1, this.#s2, this.#s3] = state;
  }
}

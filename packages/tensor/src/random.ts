/**
 * Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011): a counter-based
 * generator. Block `i` of a stream is a pure function of (key, i), so any backend (CPU here, WGSL on the GPU)
 * computes the same numbers, in parallel, without sharing state. A `Generator` is just (key, next block).
 */

import { ValueError } from "./errors.ts";

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two uint32 (exact, via 16-bit halves). */
function mulhi(a: number, b: number): number {
  const ah = a >>> 16, al = a & 0xffff, bh = b >>> 16, bl = b & 0xffff;
  const lh = al * bh, hl = ah * bl;
  const mid = ((al * bl) >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (ah * bh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0;
}

/** Writes the four words of block `counter` (a non-negative integer < 2^53) into `out[at..at+3]`. */
export function philoxBlock(k0: number, k1: number, counter: number, out: Uint32Array, at: number): void {
  // Block i of a stream is the Philox counter [i mod 2^32, floor(i / 2^32), 0, 0].
  philoxRounds(counter >>> 0, Math.floor(counter / 0x100000000) >>> 0, 0, 0, k0, k1, out, at);
}

/**
 * Philox-4x32-10 of a full four-word counter and a two-word key, e.g. to check the implementation against
 * Random123's published known-answer vectors.
 */
export function philox4x32(counter: readonly [number, number, number, number], key: readonly [number, number]): Uint32Array {
  const out = new Uint32Array(4);
  philoxRounds(counter[0] >>> 0, counter[1] >>> 0, counter[2] >>> 0, counter[3] >>> 0, key[0] >>> 0, key[1] >>> 0, out, 0);
  return out;
}

function philoxRounds(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
  out: Uint32Array,
  at: number,
): void {
  for (let round = 0; round < 10; round++) {
    const hi0 = mulhi(M0, c0), lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2), lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[at] = c0;
  out[at + 1] = c1;
  out[at + 2] = c2;
  out[at + 3] = c3;
}

/** `nWords` consecutive 32-bit words of the stream, from block `counter` on. */
export function philoxWords(key: readonly [number, number], counter: number, nWords: number): Uint32Array {
  const blocks = Math.ceil(nWords / 4);
  const out = new Uint32Array(blocks * 4);
  for (let i = 0; i < blocks; i++) philoxBlock(key[0], key[1], counter + i, out, i * 4);
  return nWords === out.length ? out : out.subarray(0, nWords);
}

/** Words needed for `size` values: 1 per float32 value, 2 per float64 value (53 random bits). */
export function wordsFor(dtype: "float32" | "float64", size: number): number {
  const perValue = dtype === "float64" ? 2 : 1;
  // Box–Muller consumes uniforms in pairs, so round up to an even count of values.
  return perValue * (size + (size & 1));
}

export function blocksFor(dtype: "float32" | "float64", size: number): number {
  return Math.ceil(wordsFor(dtype, size) / 4);
}

const TWO_POW_M24 = 2 ** -24;
const TWO_POW_M53 = 2 ** -53;

/** Uniform in [0, 1) from the stream: float32 from 24 bits of one word, float64 from 53 bits of two. */
export function uniformFromWords(words: Uint32Array, dtype: "float32" | "float64", out: Float32Array | Float64Array): void {
  if (dtype === "float32") {
    for (let i = 0; i < out.length; i++) out[i] = (words[i]! >>> 8) * TWO_POW_M24;
  } else {
    for (let i = 0; i < out.length; i++) {
      out[i] = ((words[2 * i]! >>> 5) * 67108864 + (words[2 * i + 1]! >>> 6)) * TWO_POW_M53;
    }
  }
}

/** Standard normal by Box–Muller on consecutive pairs of uniforms (the first of each pair shifted into (0, 1]). */
export function normalFromWords(words: Uint32Array, dtype: "float32" | "float64", out: Float32Array | Float64Array): void {
  const n = out.length;
  const u = new Float64Array(n + (n & 1));
  uniformFromWords(words, dtype, u);
  const step = dtype === "float32" ? TWO_POW_M24 : TWO_POW_M53;
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(u[i]! + step));
    const theta = 2 * Math.PI * u[i + 1]!;
    out[i] = r * Math.cos(theta);
    if (i + 1 < n) out[i + 1] = r * Math.sin(theta);
  }
}

/**
 * A seeded source of random numbers. The state is the Philox key (from the seed) and the index of the next
 * unused block; `getState`/`setState` save and restore it exactly (for resuming training).
 */
export class Generator {
  /** The Philox key: the seed's low and high 32 bits. */
  key: [number, number];
  /** Index of the next unused block of the stream. */
  counter = 0;

  /** A generator whose stream is determined by `seed` (a non-negative safe integer). */
  constructor(seed = 0) {
    this.key = [0, 0];
    this.manualSeed(seed);
  }

  /** Restarts the stream of `seed` from its first block. */
  manualSeed(seed: number): this {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new ValueError(`Generator.manualSeed: seed must be a non-negative safe integer, got ${seed}`);
    }
    this.key = [seed >>> 0, Math.floor(seed / 0x100000000) >>> 0];
    this.counter = 0;
    return this;
  }

  /** Reserves `blocks` blocks of the stream and returns the first one's index. */
  take(blocks: number): number {
    const start = this.counter;
    this.counter += blocks;
    return start;
  }

  /** `n` raw 32-bit words, advancing the state. */
  nextWords(n: number): Uint32Array {
    const start = this.take(Math.ceil(n / 4));
    return philoxWords(this.key, start, n);
  }

  /** A copy of the state (JSON-serialisable). */
  getState(): { key: [number, number]; counter: number } {
    return { key: [this.key[0], this.key[1]], counter: this.counter };
  }

  /** Continues the stream from a state `getState` returned. */
  setState(state: { key: readonly [number, number] | number[]; counter: number }): void {
    this.key = [state.key[0]! >>> 0, state.key[1]! >>> 0];
    this.counter = state.counter;
  }
}

let defaultGen = new Generator(0);

/** The generator used when an operation is given none. */
export function defaultGenerator(): Generator {
  return defaultGen;
}

/** Re-seeds the default generator (like `torch.manual_seed`). */
export function manualSeed(seed: number): Generator {
  defaultGen = new Generator(seed);
  return defaultGen;
}

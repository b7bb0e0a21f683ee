/**
 * An independent reference of the random stream every backend must reproduce: Philox-4x32-10 (Salmon et al.,
 * SC 2011, as in Random123) with exact 64-bit products in BigInt, and the documented mapping from 32-bit words
 * to uniform and normal values.
 */

const MASK = 0xffffffffn;

function mulhilo(a: bigint, b: number): [bigint, bigint] {
  const p = a * BigInt(b);
  return [p >> 32n, p & MASK];
}

/** One Philox-4x32-10 block: four 32-bit words from a four-word counter and a two-word key. */
export function refPhilox4x32(
  counter: readonly [number, number, number, number],
  key: readonly [number, number],
): [number, number, number, number] {
  let [c0, c1, c2, c3] = counter.map((v) => BigInt(v >>> 0)) as [bigint, bigint, bigint, bigint];
  let k0 = BigInt(key[0] >>> 0), k1 = BigInt(key[1] >>> 0);
  for (let round = 0; round < 10; round++) {
    const [hi0, lo0] = mulhilo(c0, 0xd2511f53);
    const [hi1, lo1] = mulhilo(c2, 0xcd9e8d57);
    [c0, c1, c2, c3] = [hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0];
    k0 = (k0 + 0x9e3779b9n) & MASK;
    k1 = (k1 + 0xbb67ae85n) & MASK;
  }
  return [Number(c0), Number(c1), Number(c2), Number(c3)];
}

/** Words of the stream of `key` from block `block` on; block i uses the counter [i mod 2³², ⌊i / 2³²⌋, 0, 0]. */
export function refStreamWords(key: readonly [number, number], block: number, count: number): number[] {
  const words: number[] = [];
  for (let i = block; words.length < count; i++) {
    words.push(...refPhilox4x32([i % 2 ** 32, Math.floor(i / 2 ** 32), 0, 0], key));
  }
  return words.slice(0, count);
}

/** Words one value takes: one for float32 (24 bits used), two for float64 (53 bits used). */
export function refWordsPerValue(dtype: "float32" | "float64"): number {
  return dtype === "float64" ? 2 : 1;
}

/** Blocks a request of `size` values consumes (values are drawn in pairs for Box–Muller, even for uniforms). */
export function refBlocksFor(dtype: "float32" | "float64", size: number): number {
  return Math.ceil((refWordsPerValue(dtype) * (size + (size % 2))) / 4);
}

function uniformAt(words: readonly number[], dtype: "float32" | "float64", i: number): number {
  if (dtype === "float32") return Math.floor(words[i]! / 256) / 2 ** 24;
  const hi = Math.floor(words[2 * i]! / 32), lo = Math.floor(words[2 * i + 1]! / 64);
  return (hi * 2 ** 26 + lo) / 2 ** 53;
}

/** `size` uniform values in [0, 1) from block `block` of the stream of `key`. */
export function refUniform(dtype: "float32" | "float64", size: number, key: readonly [number, number], block: number): number[] {
  const words = refStreamWords(key, block, refWordsPerValue(dtype) * size);
  return Array.from({ length: size }, (_, i) => uniformAt(words, dtype, i));
}

/**
 * `size` standard normal values: Box–Muller on consecutive pairs of uniforms (u₁, u₂), the first moved into
 * (0, 1] by adding one unit of its resolution: r = √(−2 ln u₁), values r·cos 2πu₂ and r·sin 2πu₂.
 */
export function refNormal(dtype: "float32" | "float64", size: number, key: readonly [number, number], block: number): number[] {
  const even = size + (size % 2);
  const words = refStreamWords(key, block, refWordsPerValue(dtype) * even);
  const unit = dtype === "float32" ? 2 ** -24 : 2 ** -53;
  const out: number[] = [];
  for (let i = 0; i < even; i += 2) {
    const r = Math.sqrt(-2 * Math.log(uniformAt(words, dtype, i) + unit));
    const theta = 2 * Math.PI * uniformAt(words, dtype, i + 1);
    out.push(r * Math.cos(theta), r * Math.sin(theta));
  }
  return out.slice(0, size);
}

// Random SGEMM operands laid out as a test case describes (either operand transposed, padded rows, offsets),
// drawn from a seeded generator so that a failing case replays from its seed.

/** Where the operands of C (m×n) = op(A)·op(B) sit: padding after each row, elements before the first. */
export interface GemmLayout {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  padA: number;
  padB?: number;
  padC: number;
  offA?: number;
  offB?: number;
  offC: number;
  seed: number;
}

/** Values in [-1, 1) from xorshift32: the same seed gives the same values. */
export function seededUniform(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) / 2 ** 32) * 2 - 1;
  };
}

/** A, B and C with their leading dimensions; `fill` goes on drawing from the same generator for further operands. */
export interface GemmOperands {
  a: Float32Array;
  b: Float32Array;
  c: Float32Array;
  lda: number;
  ldb: number;
  ldc: number;
  fill(length: number): Float32Array;
}

export function gemmOperands(layout: GemmLayout): GemmOperands {
  const { transA, transB, m, n, k } = layout;
  const random = seededUniform(layout.seed);
  const fill = (length: number) => Float32Array.from({ length }, random);
  const aRows = transA ? k : m, aCols = transA ? m : k;
  const bRows = transB ? n : k, bCols = transB ? k : n;
  const lda = aCols + layout.padA, ldb = bCols + (layout.padB ?? 0), ldc = n + layout.padC;
  const a = fill((layout.offA ?? 0) + aRows * lda);
  const b = fill((layout.offB ?? 0) + bRows * ldb);
  const c = fill(layout.offC + m * ldc);
  return { a, b, c, lda, ldb, ldc, fill };
}

import type { StridedView } from "../backend.ts";
import type { TypedArray } from "../dtype.ts";
import { dataOf } from "./storage.ts";

/** The arrays a GEMM multiplies: float32, float64 (and int32 for integer matmul). */
export type GemmArray = Float32Array | Float64Array | Int32Array;
type Floats = GemmArray;

/**
 * A GEMM epilogue: after the product, C[i][j] = C[i][j] + bias[offset + j] and, with `relu`, max(·, 0) (NaN
 * kept) — the values matmul-then-add (then relu) computes, produced while C's rows are still in cache.
 */
export interface GemmBiasEpilogue {
  bias: GemmArray;
  offset: number;
  relu: boolean;
}

/**
 * C = op(A) · op(B) (+ C when `accumulate`), row-major, op = transpose when the flag is set:
 * op(A) is m × k with element (i, p) at a[aOffset + i·lda + p] (or a[aOffset + p·lda + i] transposed).
 * Plain loops in the i-p-j order so the innermost loop walks rows of B and C contiguously.
 */
export function gemmPlain(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  a: Floats,
  aOffset: number,
  lda: number,
  b: Floats,
  bOffset: number,
  ldb: number,
  c: Floats,
  cOffset: number,
  ldc: number,
  accumulate: boolean,
  epilogue?: GemmBiasEpilogue,
): void {
  // A transposed B is copied to row-major k × n once, so the inner loop stays contiguous.
  if (transB) {
    const packed = new (b.constructor as Float64ArrayConstructor)(k * n) as Floats;
    for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) packed[p * n + j] = b[bOffset + j * ldb + p]!;
    b = packed;
    bOffset = 0;
    ldb = n;
  }
  for (let i = 0; i < m; i++) {
    const ci = cOffset + i * ldc;
    if (!accumulate) c.fill(0, ci, ci + n);
    for (let p = 0; p < k; p++) {
      // No shortcut for av = 0: 0 · NaN and 0 · ∞ are NaN, and a NaN or ∞ in B has to reach C (as in PyTorch).
      const av = transA ? a[aOffset + p * lda + i]! : a[aOffset + i * lda + p]!;
      const bp = bOffset + p * ldb;
      for (let j = 0; j < n; j++) c[ci + j] += av * b[bp + j]!;
    }
    if (epilogue) addBiasRow(c, ci, n, epilogue);
  }
}

/** The epilogue on one row of C, in the relu op's definition: x > 0 or NaN keeps x, else +0. */
function addBiasRow(c: Floats, ci: number, n: number, { bias, offset, relu }: GemmBiasEpilogue): void {
  if (!relu) {
    for (let j = 0; j < n; j++) c[ci + j] += bias[offset + j]!;
    return;
  }
  for (let j = 0; j < n; j++) {
    c[ci + j] += bias[offset + j]!;
    const v = c[ci + j]!; // as stored (rounded to float32 in a Float32Array)
    if (!(v > 0 || v !== v)) c[ci + j] = 0;
  }
}

/**
 * A GEMM routine with `gemmPlain`'s contract: the CPU backend runs float32 products through the WebAssembly
 * kernel where the engine has SIMD and through `gemmPlain` elsewhere.
 */
export type Gemm = (
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  a: GemmArray,
  aOffset: number,
  lda: number,
  b: GemmArray,
  bOffset: number,
  ldb: number,
  c: GemmArray,
  cOffset: number,
  ldc: number,
  accumulate: boolean,
  epilogue?: GemmBiasEpilogue,
) => void;

/**
 * Batched [B, M, K] × [B, K, N] over strided views. Each operand's matrices are used in place when their
 * rows or columns are contiguous (plain or transposed); other layouts are gathered into a dense copy first.
 * With `bias` (a [N] view), each product row gets it added, then ReLU when `relu` (see GemmBiasEpilogue).
 */
export function matmulInto(
  a: StridedView,
  b: StridedView,
  out: TypedArray,
  gemm: Gemm,
  bias?: { view: StridedView; relu: boolean },
): void {
  const [batch, m, k] = a.shape as [number, number, number];
  const n = b.shape[2]!;
  const ad = dataOf(a.storage) as Floats, bd = dataOf(b.storage) as Floats;
  const [aLayout, bLayout] = [layout(a, ad), layout(b, bd)];
  const epilogue = bias && biasEpilogue(bias.view, bias.relu);
  for (let i = 0; i < batch; i++) {
    gemm(
      aLayout.trans, bLayout.trans, m, n, k,
      aLayout.data, aLayout.offset(i), aLayout.ld,
      bLayout.data, bLayout.offset(i), bLayout.ld,
      out as Floats, i * m * n, n, false, epilogue,
    );
  }
}

/** The bias as a contiguous row: in place when its elements are adjacent, else gathered. */
function biasEpilogue(v: StridedView, relu: boolean): GemmBiasEpilogue {
  const data = dataOf(v.storage) as Floats;
  const n = v.shape[0]!;
  if (v.strides[0] === 1 || n <= 1) return { bias: data, offset: v.offset, relu };
  const dense = new (data.constructor as Float64ArrayConstructor)(n) as Floats;
  for (let j = 0; j < n; j++) dense[j] = data[v.offset + j * v.strides[0]!]!;
  return { bias: dense, offset: 0, relu };
}

function layout(v: StridedView, data: Floats) {
  const [batch, rows, cols] = v.shape as [number, number, number];
  const [sb, sr, sc] = v.strides as [number, number, number];
  const offset = (i: number) => v.offset + i * sb;
  // Row-major in place: element (r, c) at r·ld + c.
  if (sc === 1 || cols === 1) {
    const ld = rows === 1 ? cols : sr;
    if (ld >= cols) return { data, trans: false, ld, offset };
  }
  // Column-major in place (a transposed view): element (r, c) at c·ld + r.
  if (sr === 1 || rows === 1) {
    const ld = cols === 1 ? rows : sc;
    if (ld >= rows) return { data, trans: true, ld, offset };
  }
  const dense = new (data.constructor as Float64ArrayConstructor)(batch * rows * cols) as Floats;
  let q = 0;
  for (let i = 0; i < batch; i++) {
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) dense[q++] = data[v.offset + i * sb + r * sr + c * sc]!;
  }
  return { data: dense, trans: false, ld: cols, offset: (i: number) => i * rows * cols };
}

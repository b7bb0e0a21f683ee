/**
 * Plain float64 reference implementations of every kernel-backed operation, written from the operations'
 * definitions (PyTorch semantics) with nested index loops. They share no code with any backend or with the ops
 * layer, so a mistake in either cannot hide itself: the conformance suite compares each backend against these.
 * Speed is irrelevant here; clarity is the point.
 */
import type { DType } from "../dtype.ts";
import { ShapeError } from "../errors.ts";
import { powC } from "../expr/evaluate.ts";
import {
  BINARY_OP_NAMES,
  type BinaryOp,
  binaryDef,
  BOOL_BINARY_OPS,
  INTEGRAL_UNARY_OPS,
  UNARY_OP_NAMES,
  type UnaryOp,
  unaryDef,
} from "../ops/op_table.ts";

/** A reference array: row-major values (bool as 0/1), the dtype the operation must produce, and per element a
 * magnitude the rounding error of a float32 computation scales with (|value| when absent). */
export interface Ref {
  /** Logical shape. */
  readonly shape: readonly number[];
  /** The dtype the operation must produce. */
  readonly dtype: DType;
  /** Row-major values in float64 (bool as 0/1). */
  readonly data: readonly number[];
  /** Per element, the magnitude the allowed float32 error scales with (defaults to |value|). */
  readonly mag?: readonly number[];
  /**
   * Per element, whether NaN is also a right answer: where the order of the operations decides between NaN and
   * the value (a product whose finite factors underflow to 0 before they meet an ∞), PyTorch's answer depends on
   * that order too.
   */
  readonly orNaN?: readonly boolean[];
}

/** Number of elements of `shape`. */
export function sizeOfShape(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Row-major multi-index of flat position `flat`. */
export function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d]!;
    idx[d] = flat % n;
    flat = Math.floor(flat / n);
  }
  return idx;
}

/** Flat row-major position of `idx`. */
export function ravel(idx: readonly number[], shape: readonly number[]): number {
  let flat = 0;
  for (let d = 0; d < shape.length; d++) flat = flat * shape[d]! + idx[d]!;
  return flat;
}

/** The value `v` becomes when stored as `dtype` (float32 rounds; int32 truncates toward zero and wraps; bool is v ≠ 0). */
export function storeAs(dtype: DType, v: number): number {
  switch (dtype) {
    case "float64":
      return v;
    case "float32":
      return Math.fround(v);
    case "int32":
      return Number.isFinite(v) ? Math.trunc(v) | 0 : 0;
    case "bool":
      return v !== 0 ? 1 : 0;
  }
}

/** A reference array from its parts. */
export function refArray(
  shape: readonly number[],
  dtype: DType,
  data: readonly number[],
  mag?: readonly number[],
  orNaN?: readonly boolean[],
): Ref {
  return orNaN ? { shape: [...shape], dtype, data, mag, orNaN } : { shape: [...shape], dtype, data, mag };
}

/** A conversion of `x` to `dtype` (cast, clone, copy across devices). */
export function refCast(x: Ref, dtype: DType): Ref {
  return refArray(x.shape, dtype, x.data.map((v) => storeAs(dtype, v)));
}

// ---- dtype rules ----

/** Something an elementwise operation combines: an array (with its rank) or a plain JS number/boolean. */
export type RefOperand = { readonly dtype: DType; readonly ndim: number } | number | boolean;

const CATEGORY: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 2 };
const ORDER: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

function higher(a: DType, b: DType): DType {
  return ORDER[a] >= ORDER[b] ? a : b;
}

/**
 * PyTorch's result type for two operands: dimensioned arrays promote along bool < int32 < float32 < float64;
 * a 0-d array only decides when its category (bool < integer < float) is higher than the other array's; a JS
 * number is "weak": it changes only the category (integer → int32, fraction → float32), never the width.
 */
export function refResultType(a: RefOperand, b: RefOperand): DType {
  const scalarType = (x: number | boolean): DType =>
    typeof x === "boolean" ? "bool" : Number.isInteger(x) ? "int32" : "float32";
  if (typeof a === "object" && typeof b === "object") {
    if ((a.ndim === 0) === (b.ndim === 0)) return higher(a.dtype, b.dtype);
    const [zero, dim] = a.ndim === 0 ? [a, b] : [b, a];
    return CATEGORY[zero.dtype] > CATEGORY[dim.dtype] ? zero.dtype : dim.dtype;
  }
  if (typeof a !== "object" && typeof b !== "object") return higher(scalarType(a), scalarType(b));
  const [arr, s] = typeof a === "object" ? [a, b as number | boolean] : [b as { dtype: DType }, a];
  const st = scalarType(s);
  return CATEGORY[st] > CATEGORY[arr.dtype] ? st : arr.dtype;
}

// ---- elementwise ----

/** Every unary operation, by its function name (from the op table). */
export const UNARY_OPS: readonly UnaryOp[] = UNARY_OP_NAMES;
/** A unary operation's name. */
export type RefUnaryOp = UnaryOp;

/** Unary ops that keep an integer input integral (bool becomes int32); the rest give float32 for integer input. */
export const INTEGRAL_UNARY: ReadonlySet<RefUnaryOp> = INTEGRAL_UNARY_OPS;

/**
 * Unary ops whose zero results have a defined sign that every backend must reproduce (IEEE-754 and PyTorch agree,
 * e.g. torch 1.13: neg(0) = −0, sqrt(−0) = −0, ceil(−0.4) = −0, tanh(−0) = −0). Not here: relu, elu, sign and
 * the ops that never give zero from a zero; PyTorch's relu(−0) = −0 and sign(−0) = 0 are accidents of its kernels.
 */
export const SIGNED_ZERO_UNARY: ReadonlySet<RefUnaryOp> = new Set(UNARY_OPS.filter((op) => unaryDef(op).signedZero));

/** The value of unary operation `op` at x (ELU takes `alpha`): the op table's float64 definition. */
export function unaryValue(op: RefUnaryOp, x: number, alpha = 1): number {
  return unaryDef(op).f64(x, alpha);
}

/** The dtype unary `op` produces from `dtype`. */
export function unaryResultType(op: RefUnaryOp, dtype: DType): DType {
  if (unaryDef(op).bool) return "bool";
  if (dtype === "float32" || dtype === "float64") return dtype;
  return INTEGRAL_UNARY.has(op) ? "int32" : "float32";
}

/** Unary `op` applied to every element. */
export function refUnary(op: RefUnaryOp, x: Ref, alpha = 1): Ref {
  const dtype = unaryResultType(op, x.dtype);
  return refArray(x.shape, dtype, x.data.map((v) => storeAs(dtype === "bool" ? "float64" : dtype, unaryValue(op, v, alpha))));
}

/** Every binary operation, by its function name (from the op table). */
export const BINARY_OPS: readonly BinaryOp[] = BINARY_OP_NAMES;
/** A binary operation's name. */
export type RefBinaryOp = BinaryOp;
/** Binary operations whose result is bool. */
export const COMPARISON_OPS: ReadonlySet<RefBinaryOp> = BOOL_BINARY_OPS;

/**
 * Binary ops whose zero results have a defined sign every backend must reproduce: −0 + −0 = −0, 0 − 0 = 0,
 * −1 · 0 = −0, 0 / −1 = −0 (IEEE-754; torch 1.13 agrees). maximum/minimum of ±0 pick either zero in PyTorch.
 */
export const SIGNED_ZERO_BINARY: ReadonlySet<RefBinaryOp> = new Set(BINARY_OPS.filter((op) => binaryDef(op).signedZero));

export { powC };

/** The value of binary operation `op` at (a, b); comparisons give 1 or 0: the op table's float64 definition. */
export function binaryValue(op: RefBinaryOp, a: number, b: number): number {
  return binaryDef(op).f64(a, b);
}

/** The dtype both operands are converted to before the operation (division of integers is true division). */
export function binaryComputeType(op: RefBinaryOp, a: RefOperand, b: RefOperand): DType {
  const t = refResultType(a, b);
  const def = binaryDef(op);
  if (def.intsToFloat && (t === "int32" || t === "bool")) return "float32";
  if (def.onBool === "int32" && t === "bool") return "int32";
  return t;
}

/** NumPy broadcasting of shapes, or null when they do not broadcast. */
export function broadcast(...shapes: (readonly number[])[]): number[] | null {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let j = 0; j < rank; j++) {
    let d = 1;
    for (const s of shapes) {
      const k = j - (rank - s.length);
      const v = k >= 0 ? s[k]! : 1;
      if (v === 1) continue;
      if (d !== 1 && d !== v) return null;
      d = v;
    }
    out.push(d);
  }
  return out;
}

/** Value of `x` at output index `idx` of a broadcast to a higher-or-equal rank. */
function atBroadcast(x: Ref, idx: readonly number[]): number {
  const lead = idx.length - x.shape.length;
  let flat = 0;
  for (let d = 0; d < x.shape.length; d++) {
    const n = x.shape[d]!;
    flat = flat * n + (n === 1 ? 0 : idx[lead + d]!);
  }
  return x.data[flat]!;
}

/** A 0-d reference array holding a JS number, as an operation would see it after conversion to `dtype`. */
export function refScalar(value: number | boolean, dtype: DType): Ref {
  return refArray([], dtype, [storeAs(dtype, Number(value))]);
}

/** Binary `op` with broadcasting and PyTorch's dtype rules (a JS number is a weak scalar). */
export function refBinary(op: RefBinaryOp, a: Ref | number | boolean, b: Ref | number | boolean): Ref {
  const operand = (x: Ref | number | boolean): RefOperand => (typeof x === "object" ? { dtype: x.dtype, ndim: x.shape.length } : x);
  const compute = binaryComputeType(op, operand(a), operand(b));
  const A = typeof a === "object" ? refCast(a, compute) : refScalar(a, compute);
  const B = typeof b === "object" ? refCast(b, compute) : refScalar(b, compute);
  const shape = broadcast(A.shape, B.shape);
  if (!shape) throw new ShapeError(`reference: shapes [${A.shape}] and [${B.shape}] do not broadcast`);
  const outDtype = COMPARISON_OPS.has(op) ? "bool" : compute;
  const n = sizeOfShape(shape);
  const data: number[] = [];
  const mag: number[] = [];
  for (let i = 0; i < n; i++) {
    const idx = unravel(i, shape);
    const x = atBroadcast(A, idx), y = atBroadcast(B, idx);
    // Rounded to the result dtype: a float32 result beyond float32's range is ±∞.
    const v = binaryValue(op, x, y);
    data.push(storeAs(outDtype, v));
    // Sums and differences are rounded relative to their operands, not to a possibly cancelled result.
    mag.push(op === "add" || op === "sub" ? Math.abs(x) + Math.abs(y) : Math.abs(v));
  }
  return refArray(shape, outDtype, data, mag);
}

/** `a` where `cond` ≠ 0, else `b`, broadcasting all three. */
export function refWhere(cond: Ref, a: Ref | number | boolean, b: Ref | number | boolean): Ref {
  const operand = (x: Ref | number | boolean): RefOperand => (typeof x === "object" ? { dtype: x.dtype, ndim: x.shape.length } : x);
  const dtype = refResultType(operand(a), operand(b));
  const A = typeof a === "object" ? refCast(a, dtype) : refScalar(a, dtype);
  const B = typeof b === "object" ? refCast(b, dtype) : refScalar(b, dtype);
  const shape = broadcast(cond.shape, A.shape, B.shape);
  if (!shape) throw new ShapeError(`reference: where operands [${cond.shape}], [${A.shape}], [${B.shape}] do not broadcast`);
  const data: number[] = [];
  for (let i = 0; i < sizeOfShape(shape); i++) {
    const idx = unravel(i, shape);
    data.push(atBroadcast(cond, idx) !== 0 ? atBroadcast(A, idx) : atBroadcast(B, idx));
  }
  return refArray(shape, dtype, data);
}

// ---- reductions ----

/** Axes as a sorted list of non-negative dimensions; undefined means all. */
export function resolveAxes(axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === "number" ? [axes] : [...axes];
  return list.map((a) => (a < 0 ? a + rank : a)).sort((x, y) => x - y);
}

/** Visits, for every output position of a reduction, the input values it combines. */
function reduceGroups(
  x: Ref,
  axes: readonly number[],
  keepdim: boolean,
  combine: (values: number[]) => { value: number; mag: number },
): { shape: number[]; data: number[]; mag: number[] } {
  const reduced = new Set(axes);
  const keptDims = x.shape.map((_, i) => i).filter((i) => !reduced.has(i));
  const keptShape = keptDims.map((i) => x.shape[i]!);
  const groups: number[][] = Array.from({ length: sizeOfShape(keptShape) }, () => []);
  for (let i = 0; i < x.data.length; i++) {
    const idx = unravel(i, x.shape);
    groups[ravel(keptDims.map((d) => idx[d]!), keptShape)]!.push(x.data[i]!);
  }
  const results = groups.map(combine);
  const shape = keepdim ? x.shape.map((d, i) => (reduced.has(i) ? 1 : d)) : keptShape;
  return { shape, data: results.map((r) => r.value), mag: results.map((r) => r.mag) };
}

/** A reduction's name. */
export type RefReduceOp = "sum" | "prod" | "max" | "min";

/** The smallest normal and the largest finite magnitude of each float dtype. */
const FLOAT_RANGE = { float32: { tiny: 2 ** -126, huge: 3.4028234663852886e38 }, float64: { tiny: 2 ** -1022, huge: Number.MAX_VALUE } };

/**
 * The product of `vs` in `dtype` (values already exact in it), taken in any order: an ∞ times finite non-zero
 * factors is a signed ∞, a 0 times finite ones a signed 0, unless some order of the multiplications first
 * underflows the finite factors to 0 (or a device flushes a subnormal to 0) or overflows them to ∞, which turns the
 * product into NaN. torch.prod of [2⁻¹⁴⁹, 2⁻¹²⁷, ∞] is NaN and of [2⁻¹⁴⁹, ∞, 2⁻¹²⁷] is ∞: both are right.
 */
function refProduct(vs: readonly number[], dtype: DType): { value: number; mag: number; orNaN: boolean } {
  const value = vs.reduce((a, b) => a * b, 1);
  const mag = Math.abs(value) * Math.max(1, vs.length);
  if (dtype !== "float32" && dtype !== "float64") return { value, mag, orNaN: false };
  const hasInf = vs.some((v) => v === Infinity || v === -Infinity), hasZero = vs.some((v) => v === 0);
  if (vs.some(Number.isNaN) || hasInf === hasZero) return { value, mag, orNaN: false };
  // The smallest (largest) partial product any order reaches is that of every finite factor below (above) 1; in
  // log2 so that float64 itself neither underflows nor overflows on the way.
  const finite = vs.filter((v) => Number.isFinite(v) && v !== 0).map((v) => Math.log2(Math.abs(v)));
  const range = FLOAT_RANGE[dtype];
  const reachable = hasInf
    ? finite.filter((l) => l < 0).reduce((a, l) => a + l, 0) < Math.log2(range.tiny)
    : finite.filter((l) => l > 0).reduce((a, l) => a + l, 0) > Math.log2(range.huge);
  const negative = vs.filter((v) => v < 0 || Object.is(v, -0)).length % 2 === 1;
  const ordered = hasInf ? (negative ? -Infinity : Infinity) : (negative ? -0 : 0);
  return { value: ordered, mag: 0, orNaN: reachable };
}

/** Sum, product, maximum or minimum over `axes` (all when undefined); bool counts as int32. */
export function refReduce(op: RefReduceOp, x: Ref, axes: number | readonly number[] | undefined, keepdim: boolean): Ref {
  const dtype: DType = x.dtype === "bool" ? "int32" : x.dtype;
  const orNaN: boolean[] = [];
  const r = reduceGroups(x, resolveAxes(axes, x.shape.length), keepdim, (vs) => {
    switch (op) {
      case "sum":
        return { value: vs.reduce((a, b) => a + b, 0), mag: vs.reduce((a, b) => a + Math.abs(b), 0) };
      case "prod": {
        const p = refProduct(vs, dtype);
        orNaN.push(p.orNaN);
        return p;
      }
      case "max":
        return { value: Math.max(...vs), mag: Math.abs(Math.max(...vs)) };
      case "min":
        return { value: Math.min(...vs), mag: Math.abs(Math.min(...vs)) };
    }
  });
  const data = dtype === "int32" ? r.data.map((v) => storeAs("int32", v)) : r.data;
  return refArray(r.shape, dtype, data, r.mag, orNaN.some(Boolean) ? orNaN : undefined);
}

/** Mean over `axes`; integers average into float32. */
export function refMean(x: Ref, axes: number | readonly number[] | undefined, keepdim: boolean): Ref {
  const dtype: DType = x.dtype === "float64" ? "float64" : "float32";
  const r = reduceGroups(x, resolveAxes(axes, x.shape.length), keepdim, (vs) => ({
    value: vs.reduce((a, b) => a + b, 0) / vs.length,
    mag: vs.reduce((a, b) => a + Math.abs(b), 0) / vs.length,
  }));
  return refArray(r.shape, dtype, r.data, r.mag);
}

/** Variance with `correction` (1 = Bessel, the default of `torch.var`). */
export function refVar(x: Ref, axes: number | readonly number[] | undefined, correction: number, keepdim: boolean): Ref {
  const dtype: DType = x.dtype === "float64" ? "float64" : "float32";
  const r = reduceGroups(x, resolveAxes(axes, x.shape.length), keepdim, (vs) => {
    const m = vs.reduce((a, b) => a + b, 0) / vs.length;
    const ss = vs.reduce((a, b) => a + (b - m) * (b - m), 0);
    const sq = vs.reduce((a, b) => a + b * b, 0);
    const denom = Math.max(0, vs.length - correction);
    return { value: ss / denom, mag: sq / denom };
  });
  return refArray(r.shape, dtype, r.data, r.mag);
}

/**
 * log Σ exp(x) over `axes`, computed as m + log Σ exp(x − m) with m the maximum, or 0 when the maximum is
 * infinite, as PyTorch does (torch 1.13: logsumexp of [−∞, −∞] = −∞, of [∞, 1] = ∞, of [1, NaN] = NaN).
 */
export function refLogSumExp(x: Ref, axes: number | readonly number[] | undefined, keepdim: boolean): Ref {
  const r = reduceGroups(x, resolveAxes(axes, x.shape.length), keepdim, (vs) => {
    const top = Math.max(...vs);
    const m = top === Infinity || top === -Infinity ? 0 : top;
    return { value: m + Math.log(vs.reduce((a, v) => a + Math.exp(v - m), 0)), mag: Math.abs(m) + 1 };
  });
  return refArray(r.shape, x.dtype, r.data, r.mag);
}

/**
 * Index of the first largest (smallest) value along `dim`, or in the flattened array when `dim` is undefined.
 * NaN counts as the extreme for both, and the first NaN wins (torch 1.13: argmax and argmin of [1, nan, 3, nan]
 * are both 1).
 */
export function refArgReduce(op: "argmax" | "argmin", x: Ref, dim: number | undefined, keepdim: boolean): Ref {
  const pick = (vs: number[]) => {
    const firstNaN = vs.findIndex((v) => Number.isNaN(v));
    if (firstNaN >= 0) return { value: firstNaN, mag: 0 };
    let at = 0;
    for (let i = 1; i < vs.length; i++) if (op === "argmax" ? vs[i]! > vs[at]! : vs[i]! < vs[at]!) at = i;
    return { value: at, mag: 0 };
  };
  if (dim === undefined) {
    const flat = refArray([x.data.length], x.dtype, x.data);
    const r = reduceGroups(flat, [0], false, pick);
    return refArray(keepdim ? x.shape.map(() => 1) : [], "int32", r.data);
  }
  const r = reduceGroups(x, x.shape.length === 0 ? [] : resolveAxes(dim, x.shape.length), keepdim, pick);
  return refArray(r.shape, "int32", r.data);
}

/**
 * Softmax / log-softmax along `dim`, from the definition shifted by the row's maximum as PyTorch computes it, which
 * decides the non-finite cases: a row holding NaN or +∞, or only −∞, is all NaN (torch 1.13); a −∞ among finite
 * values gives 0 (log-softmax −∞). In float64 nothing else overflows here.
 */
export function refSoftmax(x: Ref, dim: number, log: boolean): Ref {
  const rank = x.shape.length;
  // A 0-d array is a row of one.
  const d = rank === 0 ? 0 : dim < 0 ? dim + rank : dim;
  const n = rank === 0 ? 1 : x.shape[d]!;
  const stride = sizeOfShape(x.shape.slice(d + 1));
  const data = new Array<number>(x.data.length);
  const mag = new Array<number>(x.data.length);
  for (let i = 0; i < x.data.length; i++) {
    const pos = Math.floor(i / stride) % n;
    const base = i - pos * stride;
    const row = Array.from({ length: n }, (_, k) => x.data[base + k * stride]!);
    const m = Math.max(...row);
    const total = row.reduce((a, v) => a + Math.exp(v - m), 0);
    const lse = Math.log(total);
    data[i] = log ? x.data[i]! - m - lse : Math.exp(x.data[i]! - m) / total;
    mag[i] = log ? Math.abs(x.data[i]! - m) + Math.abs(lse) : Math.abs(data[i]!);
  }
  return refArray(x.shape, x.dtype, data, mag);
}

// ---- matmul ----

/** PyTorch `matmul`: 1-D operands act as a row (left) or a column (right); batch dimensions broadcast. */
export function refMatmul(a: Ref, b: Ref): Ref {
  const aVec = a.shape.length === 1, bVec = b.shape.length === 1;
  const aShape = aVec ? [1, a.shape[0]!] : [...a.shape];
  const bShape = bVec ? [b.shape[0]!, 1] : [...b.shape];
  const m = aShape[aShape.length - 2]!, k = aShape[aShape.length - 1]!, n = bShape[bShape.length - 1]!;
  const batch = broadcast(aShape.slice(0, -2), bShape.slice(0, -2));
  if (!batch || bShape[bShape.length - 2] !== k) throw new ShapeError(`reference: matmul of [${a.shape}] and [${b.shape}]: shapes do not fit`);
  const A = refArray(aShape, a.dtype, a.data), B = refArray(bShape, b.dtype, b.data);
  const outShape = [...batch, m, n];
  const data: number[] = [], mag: number[] = [];
  for (let i = 0; i < sizeOfShape(outShape); i++) {
    const idx = unravel(i, outShape);
    const bi = idx.slice(0, -2), r = idx[idx.length - 2]!, c = idx[idx.length - 1]!;
    let acc = 0, abs = 0;
    for (let p = 0; p < k; p++) {
      const t = atBroadcast(A, [...bi, r, p]) * atBroadcast(B, [...bi, p, c]);
      acc += t;
      abs += Math.abs(t);
    }
    data.push(acc);
    mag.push(abs);
  }
  const shape = [...batch, ...(aVec ? [] : [m]), ...(bVec ? [] : [n])];
  const dtype = higher(a.dtype, b.dtype);
  return refArray(shape, dtype, dtype === "int32" ? data.map((v) => storeAs("int32", v)) : data, mag);
}

// ---- convolution and pooling ----

/** Geometry of a 2-D window operation, per axis [h, w]. */
export interface RefWindow {
  /** Window (kernel) size. */
  kernel: [number, number];
  /** Step between windows. */
  stride: [number, number];
  /** Implicit zero padding on each side. */
  padding: [number, number];
  /** Spacing of window taps. */
  dilation: [number, number];
}

/** Number of window positions along one axis. */
export function windowOutSize(size: number, k: number, s: number, p: number, d: number): number {
  return Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1;
}

function at4(x: Ref, a: number, b: number, c: number, d: number): number {
  const [, B, C, D] = x.shape as [number, number, number, number];
  return x.data[((a * B + b) * C + c) * D + d]!;
}

/** Cross-correlation: out[n, o, y, x] = Σ_{c in o's group, i, j} in[n, c, y·s − p + i·d, x·s − p + j·d] · w[o, c, i, j]. */
export function refConv2d(x: Ref, w: Ref, win: RefWindow, groups: number): Ref {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [O, Cg, KH, KW] = w.shape as [number, number, number, number];
  const OH = windowOutSize(H, KH, win.stride[0], win.padding[0], win.dilation[0]);
  const OW = windowOutSize(W, KW, win.stride[1], win.padding[1], win.dilation[1]);
  const Og = O / groups;
  const shape = [N, O, OH, OW];
  const data: number[] = [], mag: number[] = [];
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      const g = Math.floor(o / Og);
      for (let oy = 0; oy < OH; oy++) {
        for (let ox = 0; ox < OW; ox++) {
          let acc = 0, abs = 0;
          for (let ci = 0; ci < Cg; ci++) {
            for (let i = 0; i < KH; i++) {
              for (let j = 0; j < KW; j++) {
                const iy = oy * win.stride[0] - win.padding[0] + i * win.dilation[0];
                const ix = ox * win.stride[1] - win.padding[1] + j * win.dilation[1];
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                const t = at4(x, n, g * Cg + ci, iy, ix) * at4(w, o, ci, i, j);
                acc += t;
                abs += Math.abs(t);
              }
            }
          }
          data.push(acc);
          mag.push(abs);
        }
      }
    }
  }
  void C;
  return refArray(shape, x.dtype, data, mag);
}

/** The gradient of `refConv2d` with respect to its input: every product term sends gradOut · w back to its input. */
export function refConv2dBackwardInput(gradOut: Ref, w: Ref, inputShape: readonly number[], win: RefWindow, groups: number): Ref {
  const [N, C, H, W] = inputShape as [number, number, number, number];
  const [O, Cg, KH, KW] = w.shape as [number, number, number, number];
  const [, , OH, OW] = gradOut.shape as [number, number, number, number];
  const Og = O / groups;
  const data = new Array<number>(N * C * H * W).fill(0);
  const mag = new Array<number>(N * C * H * W).fill(0);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      const g = Math.floor(o / Og);
      for (let oy = 0; oy < OH; oy++) {
        for (let ox = 0; ox < OW; ox++) {
          const go = at4(gradOut, n, o, oy, ox);
          for (let ci = 0; ci < Cg; ci++) {
            for (let i = 0; i < KH; i++) {
              for (let j = 0; j < KW; j++) {
                const iy = oy * win.stride[0] - win.padding[0] + i * win.dilation[0];
                const ix = ox * win.stride[1] - win.padding[1] + j * win.dilation[1];
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                const at = ((n * C + g * Cg + ci) * H + iy) * W + ix;
                const t = go * at4(w, o, ci, i, j);
                data[at]! += t;
                mag[at]! += Math.abs(t);
              }
            }
          }
        }
      }
    }
  }
  return refArray(inputShape, gradOut.dtype, data, mag);
}

/** The gradient of `refConv2d` with respect to its weight. */
export function refConv2dBackwardWeight(x: Ref, gradOut: Ref, weightShape: readonly number[], win: RefWindow, groups: number): Ref {
  const [N, , H, W] = x.shape as [number, number, number, number];
  const [O, Cg, KH, KW] = weightShape as [number, number, number, number];
  const [, , OH, OW] = gradOut.shape as [number, number, number, number];
  const Og = O / groups;
  const data: number[] = [], mag: number[] = [];
  for (let o = 0; o < O; o++) {
    const g = Math.floor(o / Og);
    for (let ci = 0; ci < Cg; ci++) {
      for (let i = 0; i < KH; i++) {
        for (let j = 0; j < KW; j++) {
          let acc = 0, abs = 0;
          for (let n = 0; n < N; n++) {
            for (let oy = 0; oy < OH; oy++) {
              for (let ox = 0; ox < OW; ox++) {
                const iy = oy * win.stride[0] - win.padding[0] + i * win.dilation[0];
                const ix = ox * win.stride[1] - win.padding[1] + j * win.dilation[1];
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                const t = at4(gradOut, n, o, oy, ox) * at4(x, n, g * Cg + ci, iy, ix);
                acc += t;
                abs += Math.abs(t);
              }
            }
          }
          data.push(acc);
          mag.push(abs);
        }
      }
    }
  }
  return refArray(weightShape, x.dtype, data, mag);
}

/**
 * Max pooling: each window's largest in-bounds value and its position row · W + col in the input plane; the
 * first maximum in row-major window order wins ties (padding never wins). A NaN beats every number and the
 * window's last NaN wins, as PyTorch's `val > max || isnan(val)` scan (torch 1.13: the window [1, nan, 2, nan]
 * gives NaN at index 3).
 */
export function refMaxPool2d(x: Ref, win: RefWindow): { values: Ref; indices: Ref } {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const OH = windowOutSize(H, win.kernel[0], win.stride[0], win.padding[0], win.dilation[0]);
  const OW = windowOutSize(W, win.kernel[1], win.stride[1], win.padding[1], win.dilation[1]);
  const values: number[] = [], indices: number[] = [];
  for (let p = 0; p < N * C; p++) {
    const n = Math.floor(p / C), c = p % C;
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        let best = -Infinity, at = -1;
        for (let i = 0; i < win.kernel[0]; i++) {
          for (let j = 0; j < win.kernel[1]; j++) {
            const iy = oy * win.stride[0] - win.padding[0] + i * win.dilation[0];
            const ix = ox * win.stride[1] - win.padding[1] + j * win.dilation[1];
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
            const v = at4(x, n, c, iy, ix);
            if (at < 0 || v > best || v !== v) {
              best = v;
              at = iy * W + ix;
            }
          }
        }
        values.push(best);
        indices.push(at);
      }
    }
  }
  const shape = [N, C, OH, OW];
  return { values: refArray(shape, x.dtype, values), indices: refArray(shape, "int32", indices) };
}

/** Sends each output gradient to the input position its window chose. */
export function refMaxPool2dBackward(gradOut: Ref, indices: Ref, inputShape: readonly number[]): Ref {
  const [N, C, H, W] = inputShape as [number, number, number, number];
  const [, , OH, OW] = gradOut.shape as [number, number, number, number];
  const data = new Array<number>(N * C * H * W).fill(0);
  const mag = new Array<number>(N * C * H * W).fill(0);
  for (let p = 0; p < N * C; p++) {
    for (let o = 0; o < OH * OW; o++) {
      const at = indices.data[p * OH * OW + o]!;
      if (at < 0) continue;
      data[p * H * W + at]! += gradOut.data[p * OH * OW + o]!;
      mag[p * H * W + at]! += Math.abs(gradOut.data[p * OH * OW + o]!);
    }
  }
  return refArray(inputShape, gradOut.dtype, data, mag);
}

/**
 * Number a window's sum is divided by: with `countIncludePad` the window clipped to the padded input (PyTorch),
 * else only its in-bounds cells.
 */
function avgDivisor(H: number, W: number, oy: number, ox: number, win: RefWindow, countIncludePad: boolean): number {
  let count = 0;
  for (let i = 0; i < win.kernel[0]; i++) {
    for (let j = 0; j < win.kernel[1]; j++) {
      const iy = oy * win.stride[0] - win.padding[0] + i;
      const ix = ox * win.stride[1] - win.padding[1] + j;
      const inPadded = iy < H + win.padding[0] && ix < W + win.padding[1];
      const inBounds = iy >= 0 && iy < H && ix >= 0 && ix < W;
      if (countIncludePad ? inPadded : inBounds) count++;
    }
  }
  return count;
}

/** Average pooling (no dilation). */
export function refAvgPool2d(x: Ref, win: RefWindow, countIncludePad: boolean): Ref {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const OH = windowOutSize(H, win.kernel[0], win.stride[0], win.padding[0], 1);
  const OW = windowOutSize(W, win.kernel[1], win.stride[1], win.padding[1], 1);
  const data: number[] = [], mag: number[] = [];
  for (let p = 0; p < N * C; p++) {
    const n = Math.floor(p / C), c = p % C;
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        let acc = 0, abs = 0;
        for (let i = 0; i < win.kernel[0]; i++) {
          for (let j = 0; j < win.kernel[1]; j++) {
            const iy = oy * win.stride[0] - win.padding[0] + i;
            const ix = ox * win.stride[1] - win.padding[1] + j;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
            acc += at4(x, n, c, iy, ix);
            abs += Math.abs(at4(x, n, c, iy, ix));
          }
        }
        const div = avgDivisor(H, W, oy, ox, win, countIncludePad);
        data.push(acc / div);
        mag.push(abs / div);
      }
    }
  }
  return refArray([N, C, OH, OW], x.dtype, data, mag);
}

/** Gradient of average pooling with respect to its input. */
export function refAvgPool2dBackward(gradOut: Ref, inputShape: readonly number[], win: RefWindow, countIncludePad: boolean): Ref {
  const [N, C, H, W] = inputShape as [number, number, number, number];
  const [, , OH, OW] = gradOut.shape as [number, number, number, number];
  const data = new Array<number>(N * C * H * W).fill(0);
  const mag = new Array<number>(N * C * H * W).fill(0);
  for (let p = 0; p < N * C; p++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        const g = gradOut.data[(p * OH + oy) * OW + ox]! / avgDivisor(H, W, oy, ox, win, countIncludePad);
        for (let i = 0; i < win.kernel[0]; i++) {
          for (let j = 0; j < win.kernel[1]; j++) {
            const iy = oy * win.stride[0] - win.padding[0] + i;
            const ix = ox * win.stride[1] - win.padding[1] + j;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
            data[(p * H + iy) * W + ix]! += g;
            mag[(p * H + iy) * W + ix]! += Math.abs(g);
          }
        }
      }
    }
  }
  return refArray(inputShape, gradOut.dtype, data, mag);
}

// ---- indexing ----

/** `torch.gather`: out[..., j, ...] = x[..., index[..., j, ...], ...] along `dim`. */
export function refGather(x: Ref, dim: number, index: Ref): Ref {
  const d = dim < 0 ? dim + x.shape.length : dim;
  const data = index.data.map((v, i) => {
    const idx = unravel(i, index.shape);
    idx[d] = v;
    return x.data[ravel(idx, x.shape)]!;
  });
  return refArray(index.shape, x.dtype, data);
}

/** `torch.scatter_add` (out of place): input plus src added at the positions `index` names along `dim`. */
export function refScatterAdd(input: Ref, dim: number, index: Ref, src: Ref): Ref {
  const d = dim < 0 ? dim + input.shape.length : dim;
  const data = [...input.data];
  const mag = input.data.map(Math.abs);
  index.data.forEach((v, i) => {
    const idx = unravel(i, index.shape);
    const s = src.data[i]!;
    idx[d] = v;
    const at = ravel(idx, input.shape);
    data[at]! += s;
    mag[at]! += Math.abs(s);
  });
  return refArray(input.shape, higher(input.dtype, src.dtype), data, mag);
}

/** `torch.index_select`: the slices `index` (1-D) names along `dim`, in order. */
export function refIndexSelect(x: Ref, dim: number, index: Ref): Ref {
  const d = dim < 0 ? dim + x.shape.length : dim;
  const shape = [...x.shape];
  shape[d] = index.data.length;
  const data: number[] = [];
  for (let i = 0; i < sizeOfShape(shape); i++) {
    const idx = unravel(i, shape);
    idx[d] = index.data[idx[d]!]!;
    data.push(x.data[ravel(idx, x.shape)]!);
  }
  return refArray(shape, x.dtype, data);
}

/** `torch.index_add` (out of place): src's slice j is added to input's slice index[j] along `dim`. */
export function refIndexAdd(input: Ref, dim: number, index: Ref, src: Ref): Ref {
  const d = dim < 0 ? dim + input.shape.length : dim;
  const data = [...input.data];
  const mag = input.data.map(Math.abs);
  src.data.forEach((s, i) => {
    const idx = unravel(i, src.shape);
    idx[d] = index.data[idx[d]!]!;
    const at = ravel(idx, input.shape);
    data[at]! += s;
    mag[at]! += Math.abs(s);
  });
  return refArray(input.shape, higher(input.dtype, src.dtype), data, mag);
}

/** One-hot rows of `numClasses` for int32 labels. */
export function refOneHot(labels: Ref, numClasses: number, dtype: DType): Ref {
  const data: number[] = [];
  for (const v of labels.data) for (let c = 0; c < numClasses; c++) data.push(v === c ? 1 : 0);
  return refArray([...labels.shape, numClasses], dtype, data);
}

// ---- joining ----

/** Joins arrays along an existing dimension, promoting dtypes. */
export function refConcat(xs: readonly Ref[], dim: number): Ref {
  const rank = xs[0]!.shape.length;
  const d = dim < 0 ? dim + rank : dim;
  const shape = [...xs[0]!.shape];
  shape[d] = xs.reduce((a, x) => a + x.shape[d]!, 0);
  const dtype = xs.map((x) => x.dtype).reduce(higher);
  const data: number[] = [];
  for (let i = 0; i < sizeOfShape(shape); i++) {
    const idx = unravel(i, shape);
    let pos = idx[d]!, k = 0;
    while (pos >= xs[k]!.shape[d]!) pos -= xs[k++]!.shape[d]!;
    idx[d] = pos;
    data.push(storeAs(dtype, xs[k]!.data[ravel(idx, xs[k]!.shape)]!));
  }
  return refArray(shape, dtype, data);
}

/** Joins same-shaped arrays along a new dimension. */
export function refStack(xs: readonly Ref[], dim: number): Ref {
  const rank = xs[0]!.shape.length + 1;
  const d = dim < 0 ? dim + rank : dim;
  const expanded = xs.map((x) => {
    const shape = [...x.shape];
    shape.splice(d, 0, 1);
    return refArray(shape, x.dtype, x.data);
  });
  return refConcat(expanded, d);
}

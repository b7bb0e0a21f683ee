import type { BinaryOp, StridedView, UnaryOp } from "../backend.ts";
import type { TypedArray } from "../dtype.ts";
import { dataOf } from "./storage.ts";
import { BINARY_TABLE, UNARY_TABLE } from "../ops/op_table.ts";
import { collapseDims, forEachRow } from "./strided.ts";

type Unary = (x: number) => number;
type Binary = (a: number, b: number) => number;

/** The float64 function of `op` from the op table; `param` is ELU's alpha. */
export function unaryFn(op: UnaryOp, param = 1): Unary {
  const f = UNARY_TABLE[op].f64;
  return (x) => f(x, param);
}

/** The float64 function of `op` from the op table. */
export function binaryFn(op: BinaryOp): Binary {
  return BINARY_TABLE[op].f64;
}

// The hot operations get their arithmetic written into the loop. Going through `unaryFn`/`binaryFn` costs a
// call per element that V8 cannot inline (the call site sees every op), which made a float32 multiply
// 20–30× slower than the loop itself. Each inlined loop computes exactly what the closure computes (in
// double precision, rounded once on the store), so results are bit-identical to the generic path.

/** out[o … o+n) = a ⊕ b over one row with strides as, bs; false when `op` has no inlined loop. */
function binaryRow(
  op: BinaryOp, a: TypedArray, ai: number, as: number, b: TypedArray, bi: number, bs: number,
  out: TypedArray, o: number, n: number,
): boolean {
  const end = o + n;
  if (bs === 0) {
    const y = b[bi]!;
    switch (op) {
      case "add": for (; o < end; o++, ai += as) out[o] = a[ai]! + y; return true;
      case "sub": for (; o < end; o++, ai += as) out[o] = a[ai]! - y; return true;
      case "mul": for (; o < end; o++, ai += as) out[o] = a[ai]! * y; return true;
      case "div": for (; o < end; o++, ai += as) out[o] = a[ai]! / y; return true;
      case "gt": for (; o < end; o++, ai += as) out[o] = +(a[ai]! > y); return true;
      case "lt": for (; o < end; o++, ai += as) out[o] = +(a[ai]! < y); return true;
      case "ge": for (; o < end; o++, ai += as) out[o] = +(a[ai]! >= y); return true;
      case "le": for (; o < end; o++, ai += as) out[o] = +(a[ai]! <= y); return true;
      case "eq": for (; o < end; o++, ai += as) out[o] = +(a[ai]! === y); return true;
      case "ne": for (; o < end; o++, ai += as) out[o] = +(a[ai]! !== y); return true;
      default: return false;
    }
  }
  if (as === 0) {
    const x = a[ai]!;
    switch (op) {
      case "add": for (; o < end; o++, bi += bs) out[o] = x + b[bi]!; return true;
      case "sub": for (; o < end; o++, bi += bs) out[o] = x - b[bi]!; return true;
      case "mul": for (; o < end; o++, bi += bs) out[o] = x * b[bi]!; return true;
      case "div": for (; o < end; o++, bi += bs) out[o] = x / b[bi]!; return true;
      default: return false;
    }
  }
  switch (op) {
    case "add": for (; o < end; o++, ai += as, bi += bs) out[o] = a[ai]! + b[bi]!; return true;
    case "sub": for (; o < end; o++, ai += as, bi += bs) out[o] = a[ai]! - b[bi]!; return true;
    case "mul": for (; o < end; o++, ai += as, bi += bs) out[o] = a[ai]! * b[bi]!; return true;
    case "div": for (; o < end; o++, ai += as, bi += bs) out[o] = a[ai]! / b[bi]!; return true;
    case "gt": for (; o < end; o++, ai += as, bi += bs) out[o] = +(a[ai]! > b[bi]!); return true;
    case "lt": for (; o < end; o++, ai += as, bi += bs) out[o] = +(a[ai]! < b[bi]!); return true;
    case "eq": for (; o < end; o++, ai += as, bi += bs) out[o] = +(a[ai]! === b[bi]!); return true;
    case "maximum":
      for (; o < end; o++, ai += as, bi += bs) {
        const x = a[ai]!, y = b[bi]!;
        out[o] = x !== x || y !== y ? NaN : x > y ? x : y;
      }
      return true;
    case "minimum":
      for (; o < end; o++, ai += as, bi += bs) {
        const x = a[ai]!, y = b[bi]!;
        out[o] = x !== x || y !== y ? NaN : x < y ? x : y;
      }
      return true;
    default: return false;
  }
}

/** out[o … o+n) = f(x) over one row with stride xs; false when `op` has no inlined loop. */
function unaryRow(op: UnaryOp, x: TypedArray, xi: number, xs: number, out: TypedArray, o: number, n: number): boolean {
  const end = o + n;
  switch (op) {
    case "neg": for (; o < end; o++, xi += xs) out[o] = -x[xi]!; return true;
    case "square": for (; o < end; o++, xi += xs) { const v = x[xi]!; out[o] = v * v; } return true;
    case "sqrt": for (; o < end; o++, xi += xs) out[o] = Math.sqrt(x[xi]!); return true;
    case "rsqrt": for (; o < end; o++, xi += xs) out[o] = 1 / Math.sqrt(x[xi]!); return true;
    case "reciprocal": for (; o < end; o++, xi += xs) out[o] = 1 / x[xi]!; return true;
    case "exp": for (; o < end; o++, xi += xs) out[o] = Math.exp(x[xi]!); return true;
    case "log": for (; o < end; o++, xi += xs) out[o] = Math.log(x[xi]!); return true;
    case "abs": for (; o < end; o++, xi += xs) out[o] = Math.abs(x[xi]!); return true;
    case "relu":
      for (; o < end; o++, xi += xs) {
        const v = x[xi]!;
        out[o] = v > 0 ? v : v !== v ? v : 0;
      }
      return true;
    default: return false;
  }
}

export function unaryInto(op: UnaryOp, param: number | undefined, x: StridedView, out: TypedArray): void {
  const xd = dataOf(x.storage);
  const { shape, views } = collapseDims(x.shape, [x]);
  let f: Unary | undefined;
  let k = 0;
  const xs = shape.length ? views[0]!.strides[shape.length - 1]! : 1;
  forEachRow(shape, views, (bases, n) => {
    const xb = bases[0]!;
    if (!f && unaryRow(op, xd, xb, xs, out, k, n)) {
      k += n;
      return;
    }
    f ??= unaryFn(op, param);
    for (let i = 0, xi = xb; i < n; i++, xi += xs) out[k++] = f(xd[xi]!);
  });
}

export function binaryInto(op: BinaryOp, a: StridedView, b: StridedView, shape: readonly number[], out: TypedArray): void {
  const ad = dataOf(a.storage), bd = dataOf(b.storage);
  const c = collapseDims(shape, [a, b]);
  const last = c.shape.length - 1;
  const as = last >= 0 ? c.views[0]!.strides[last]! : 1, bs = last >= 0 ? c.views[1]!.strides[last]! : 1;
  let f: Binary | undefined;
  let k = 0;
  forEachRow(c.shape, c.views, (bases, n) => {
    const ab = bases[0]!, bb = bases[1]!;
    if (!f && binaryRow(op, ad, ab, as, bd, bb, bs, out, k, n)) {
      k += n;
      return;
    }
    f ??= binaryFn(op);
    for (let i = 0, ai = ab, bi = bb; i < n; i++, ai += as, bi += bs) out[k++] = f(ad[ai]!, bd[bi]!);
  });
}

export function whereInto(cond: StridedView, a: StridedView, b: StridedView, shape: readonly number[], out: TypedArray): void {
  const cd = dataOf(cond.storage), ad = dataOf(a.storage), bd = dataOf(b.storage);
  const c = collapseDims(shape, [cond, a, b]);
  const last = c.shape.length - 1;
  const [cs, as, bs] = c.views.map((v) => (last >= 0 ? v.strides[last]! : 1)) as [number, number, number];
  let k = 0;
  forEachRow(c.shape, c.views, ([cb, ab, bb], n) => {
    for (let i = 0, ci = cb!, ai = ab!, bi = bb!; i < n; i++, ci += cs, ai += as, bi += bs) {
      out[k++] = cd[ci] ? ad[ai]! : bd[bi]!;
    }
  });
}

/** Strided copy with conversion; writing to bool maps every non-zero (and NaN) to 1. */
export function copyStrided(src: StridedView, dst: StridedView): void {
  const sd = dataOf(src.storage), dd = dataOf(dst.storage);
  const toBool = dst.storage.dtype === "bool" && src.storage.dtype !== "bool";
  const sameType = sd.constructor === dd.constructor;
  const c = collapseDims(src.shape, [src, dst]);
  const last = c.shape.length - 1;
  const ss = last >= 0 ? c.views[0]!.strides[last]! : 1, ds = last >= 0 ? c.views[1]!.strides[last]! : 1;
  forEachRow(c.shape, c.views, ([sb, db], n) => {
    if (toBool) {
      for (let i = 0, si = sb!, di = db!; i < n; i++, si += ss, di += ds) dd[di] = sd[si] === 0 ? 0 : 1;
    } else if (ss === 1 && ds === 1 && sameType && n >= 32) {
      // A native block copy, worth its subarray allocation only on longer rows.
      dd.set(sd.subarray(sb!, sb! + n), db!);
    } else {
      for (let i = 0, si = sb!, di = db!; i < n; i++, si += ss, di += ds) dd[di] = sd[si]!;
    }
  });
}

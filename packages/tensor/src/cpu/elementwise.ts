import type { BinaryOp, StridedView, UnaryOp } from "../backend.ts";
import type { TypedArray } from "../dtype.ts";
import { dataOf } from "./storage.ts";
import { forEachRow, innerStride, isDense } from "./strided.ts";

type Unary = (x: number) => number;
type Binary = (a: number, b: number) => number;

export function unaryFn(op: UnaryOp, param = 1): Unary {
  switch (op) {
    case "neg": return (x) => -x;
    case "abs": return Math.abs;
    case "sign": return (x) => (x > 0 ? 1 : x < 0 ? -1 : x);
    case "exp": return Math.exp;
    case "log": return Math.log;
    case "log1p": return Math.log1p;
    case "expm1": return Math.expm1;
    case "sqrt": return Math.sqrt;
    case "rsqrt": return (x) => 1 / Math.sqrt(x);
    case "square": return (x) => x * x;
    case "reciprocal": return (x) => 1 / x;
    case "sin": return Math.sin;
    case "cos": return Math.cos;
    case "tanh": return Math.tanh;
    case "sigmoid": return (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
    case "relu": return (x) => (x > 0 ? x : x !== x ? x : 0);
    case "elu": return (x) => (x > 0 ? x : param * Math.expm1(x));
    case "floor": return Math.floor;
    case "ceil": return Math.ceil;
    // Round half to even, as PyTorch and NumPy.
    case "round": return (x) => {
      const r = Math.round(x);
      return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
    };
    case "logicalNot": return (x) => (x === 0 ? 1 : 0);
  }
}

export function binaryFn(op: BinaryOp): Binary {
  switch (op) {
    case "add": return (a, b) => a + b;
    case "sub": return (a, b) => a - b;
    case "mul": return (a, b) => a * b;
    case "div": return (a, b) => a / b;
    case "pow": return Math.pow;
    case "maximum": return (a, b) => (a !== a || b !== b ? NaN : a > b ? a : b);
    case "minimum": return (a, b) => (a !== a || b !== b ? NaN : a < b ? a : b);
    case "eq": return (a, b) => (a === b ? 1 : 0);
    case "ne": return (a, b) => (a !== b ? 1 : 0);
    case "lt": return (a, b) => (a < b ? 1 : 0);
    case "le": return (a, b) => (a <= b ? 1 : 0);
    case "gt": return (a, b) => (a > b ? 1 : 0);
    case "ge": return (a, b) => (a >= b ? 1 : 0);
    case "logicalAnd": return (a, b) => (a !== 0 && b !== 0 ? 1 : 0);
    case "logicalOr": return (a, b) => (a !== 0 || b !== 0 ? 1 : 0);
  }
}

export function unaryInto(f: Unary, x: StridedView, out: TypedArray): void {
  const xd = dataOf(x.storage);
  if (isDense(x)) {
    const o = x.offset;
    for (let i = 0; i < out.length; i++) out[i] = f(xd[o + i]!);
    return;
  }
  let k = 0;
  const xs = innerStride(x);
  forEachRow(x.shape, [x], ([xb], n) => {
    for (let i = 0, xi = xb!; i < n; i++, xi += xs) out[k++] = f(xd[xi]!);
  });
}

export function binaryInto(f: Binary, a: StridedView, b: StridedView, shape: readonly number[], out: TypedArray): void {
  const ad = dataOf(a.storage), bd = dataOf(b.storage);
  if (isDense(a) && isDense(b)) {
    const ao = a.offset, bo = b.offset;
    for (let i = 0; i < out.length; i++) out[i] = f(ad[ao + i]!, bd[bo + i]!);
    return;
  }
  let k = 0;
  const as = innerStride(a), bs = innerStride(b);
  forEachRow(shape, [a, b], ([ab, bb], n) => {
    for (let i = 0, ai = ab!, bi = bb!; i < n; i++, ai += as, bi += bs) out[k++] = f(ad[ai]!, bd[bi]!);
  });
}

export function whereInto(cond: StridedView, a: StridedView, b: StridedView, shape: readonly number[], out: TypedArray): void {
  const cd = dataOf(cond.storage), ad = dataOf(a.storage), bd = dataOf(b.storage);
  let k = 0;
  const cs = innerStride(cond), as = innerStride(a), bs = innerStride(b);
  forEachRow(shape, [cond, a, b], ([cb, ab, bb], n) => {
    for (let i = 0, ci = cb!, ai = ab!, bi = bb!; i < n; i++, ci += cs, ai += as, bi += bs) {
      out[k++] = cd[ci] ? ad[ai]! : bd[bi]!;
    }
  });
}

/** Strided copy with conversion; writing to bool maps every non-zero (and NaN) to 1. */
export function copyStrided(src: StridedView, dst: StridedView): void {
  const sd = dataOf(src.storage), dd = dataOf(dst.storage);
  const toBool = dst.storage.dtype === "bool" && src.storage.dtype !== "bool";
  const ss = innerStride(src), ds = innerStride(dst);
  forEachRow(src.shape, [src, dst], ([sb, db], n) => {
    if (toBool) {
      for (let i = 0, si = sb!, di = db!; i < n; i++, si += ss, di += ds) dd[di] = sd[si] === 0 ? 0 : 1;
    } else if (ss === 1 && ds === 1 && sd.constructor === dd.constructor) {
      dd.set(sd.subarray(sb!, sb! + n), db!);
    } else {
      for (let i = 0, si = sb!, di = db!; i < n; i++, si += ss, di += ds) dd[di] = sd[si]!;
    }
  });
}

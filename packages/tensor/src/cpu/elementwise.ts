import type { BinaryOp, StridedView, UnaryOp } from "../backend.ts";
import type { TypedArray } from "../dtype.ts";
import { dataOf } from "./storage.ts";
import { BINARY_TABLE, UNARY_TABLE } from "../ops/op_table.ts";
import { collapseDims, forEachRow } from "./strided.ts";
import { type BinaryRow, binaryRowLoop, type UnaryRow, unaryRowLoop } from "../expr/row_loop.ts";

const unaryRows = new Map<UnaryOp, UnaryRow>();
const binaryRows = new Map<BinaryOp, BinaryRow>();

/** The row loop of unary `op`, generated from its op-table expression on first use. */
function unaryRow(op: UnaryOp): UnaryRow {
  let row = unaryRows.get(op);
  if (!row) unaryRows.set(op, (row = unaryRowLoop(UNARY_TABLE[op].expr)));
  return row;
}

/** The row loop of binary `op`, generated from its op-table expression on first use. */
function binaryRow(op: BinaryOp): BinaryRow {
  let row = binaryRows.get(op);
  if (!row) binaryRows.set(op, (row = binaryRowLoop(BINARY_TABLE[op].expr)));
  return row;
}

/** out = op(x), contiguous; `param` is ELU's alpha. Values are computed in float64 and rounded once on the store. */
export function unaryInto(op: UnaryOp, param: number | undefined, x: StridedView, out: TypedArray): void {
  const xd = dataOf(x.storage);
  const { shape, views } = collapseDims(x.shape, [x]);
  const row = unaryRow(op), p = param ?? 1;
  let k = 0;
  const xs = shape.length ? views[0]!.strides[shape.length - 1]! : 1;
  forEachRow(shape, views, (bases, n) => {
    row(xd, bases[0]!, xs, out, k, n, p);
    k += n;
  });
}

/** out = a ⊕ b, contiguous, over the broadcast `shape`. */
export function binaryInto(op: BinaryOp, a: StridedView, b: StridedView, shape: readonly number[], out: TypedArray): void {
  const ad = dataOf(a.storage), bd = dataOf(b.storage);
  const c = collapseDims(shape, [a, b]);
  const last = c.shape.length - 1;
  const as = last >= 0 ? c.views[0]!.strides[last]! : 1, bs = last >= 0 ? c.views[1]!.strides[last]! : 1;
  const row = binaryRow(op);
  let k = 0;
  forEachRow(c.shape, c.views, (bases, n) => {
    row(ad, bases[0]!, as, bd, bases[1]!, bs, out, k, n);
    k += n;
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

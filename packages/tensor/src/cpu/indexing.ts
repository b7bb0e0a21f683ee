// gather and scatterAdd over strided views. Both walk the index in row-major order; the indexed array is
// viewed with stride 0 along the indexed dimension, so each index position's base element is found by the
// row walk and the index value adds value × that dimension's stride.
import type { AxisIndexParams, StridedView } from "../backend.ts";
import { contiguousStrides } from "../shape.ts";
import type { TypedArray } from "../dtype.ts";
import { ValueError } from "../errors.ts";
import { collapseDims, forEachRow } from "./strided.ts";

function checkIndex(op: string, v: number, axisSize: number, at: number, shape: readonly number[]): void {
  if (v < 0 || v >= axisSize) {
    const position: number[] = [];
    for (let d = shape.length - 1, rest = at; d >= 0; d--) {
      position.unshift(rest % shape[d]!);
      rest = Math.floor(rest / shape[d]!);
    }
    throw new ValueError(`${op}: index ${v} (at [${position.join(", ")}] of the index) is out of range 0..${axisSize - 1}`);
  }
}

/** `strides` with the one of `dim` set to 0. */
function pinned(strides: readonly number[], dim: number): number[] {
  return strides.map((s, d) => (d === dim ? 0 : s));
}

/**
 * Walks the index's positions in row-major order, a row of the collapsed shape at a time: `row(at, bases, n,
 * steps)` gets the flat position of the row's first element, each view's element index there (the index's
 * first) and each view's step along the row.
 */
function walk(
  index: StridedView,
  others: readonly { strides: readonly number[]; offset: number }[],
  row: (at: number, bases: readonly number[], n: number, steps: readonly number[]) => void,
): void {
  const views = [index, ...others].map((v) => ({ storage: index.storage, shape: index.shape, strides: v.strides, offset: v.offset }));
  const c = collapseDims(index.shape, views);
  const steps = c.views.map((v) => v.strides[v.strides.length - 1] ?? 0);
  let at = 0;
  forEachRow(c.shape, c.views, (bases, n) => {
    row(at, bases, n, steps);
    at += n;
  });
}

/** out[…, j, …] = x[…, index[…, j, …], …] along p.dim; out is contiguous in the index's shape. */
export function gatherInto(
  x: StridedView, xData: TypedArray, index: StridedView, indexData: Int32Array, p: AxisIndexParams, out: TypedArray,
): void {
  const step = x.strides[p.dim]!, name = p.name ?? "gather";
  walk(index, [{ strides: pinned(x.strides, p.dim), offset: x.offset }], (at, [ib, xb], n, [is, xs]) => {
    if (is === 0 && xs === 1) {
      // One index value for a contiguous run (indexSelect of rows): a block copy.
      const v = indexData[ib!]!;
      if (v < 0 || v >= p.axisSize) checkIndex(name, v, p.axisSize, at, index.shape);
      const from = xb! + v * step;
      out.set(xData.subarray(from, from + n), at);
      return;
    }
    for (let i = 0; i < n; i++) {
      const v = indexData[ib! + i * is!]!;
      if (v < 0 || v >= p.axisSize) checkIndex(name, v, p.axisSize, at + i, index.shape);
      out[at + i] = xData[xb! + i * xs! + v * step]!;
    }
  });
}

/** out[…, index[…, j, …], …] += src[…, j, …] along p.dim, into a zeroed contiguous out. */
export function scatterAddInto(
  src: StridedView, srcData: TypedArray, index: StridedView, indexData: Int32Array, p: AxisIndexParams, out: TypedArray,
): void {
  const outShape = index.shape.map((s, d) => (d === p.dim ? p.axisSize : s));
  const outStrides = contiguousStrides(outShape);
  const step = outStrides[p.dim]!, name = p.name ?? "scatterAdd";
  walk(index, [src, { strides: pinned(outStrides, p.dim), offset: 0 }], (at, [ib, sb, ob], n, [is, ss, os]) => {
    if (is === 0) {
      // One index value for the whole run (indexAdd of rows).
      const v = indexData[ib!]!;
      if (v < 0 || v >= p.axisSize) checkIndex(name, v, p.axisSize, at, index.shape);
      for (let i = 0, o = ob! + v * step, si = sb!; i < n; i++, o += os!, si += ss!) out[o] += srcData[si]!;
      return;
    }
    for (let i = 0; i < n; i++) {
      const v = indexData[ib! + i * is!]!;
      if (v < 0 || v >= p.axisSize) checkIndex(name, v, p.axisSize, at + i, index.shape);
      out[ob! + i * os! + v * step] += srcData[sb! + i * ss!]!;
    }
  });
}

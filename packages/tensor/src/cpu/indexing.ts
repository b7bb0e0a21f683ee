// gather and scatterAdd over strided views. Both walk the index in row-major order; the indexed array is
// viewed with stride 0 along the indexed dimension, so each index position's base element is found by the
// row walk and the index value adds value × that dimension's stride.
import type { AxisIndexParams, StridedView } from "../backend.ts";
import { contiguousStrides } from "../shape.ts";
import type { TypedArray } from "../dtype.ts";
import { ValueError } from "../errors.ts";
import { forEachRow } from "./strided.ts";

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

/** Visits every index position: its flat position, the index element, and the base of each other view. */
function walk(
  index: StridedView,
  others: readonly { strides: readonly number[]; offset: number }[],
  visit: (at: number, indexAt: number, bases: readonly number[]) => void,
): void {
  const views = [index, ...others];
  const rank = index.shape.length;
  const last = rank - 1;
  let at = 0;
  const bases = new Array<number>(others.length);
  forEachRow(index.shape, views, (starts, n) => {
    for (let i = 0; i < n; i++, at++) {
      for (let k = 0; k < others.length; k++) bases[k] = starts[k + 1]! + (rank ? i * others[k]!.strides[last]! : 0);
      visit(at, starts[0]! + (rank ? i * index.strides[last]! : 0), bases);
    }
  });
}

/** out[…, j, …] = x[…, index[…, j, …], …] along p.dim; out is contiguous in the index's shape. */
export function gatherInto(
  x: StridedView, xData: TypedArray, index: StridedView, indexData: Int32Array, p: AxisIndexParams, out: TypedArray,
): void {
  const step = x.strides[p.dim]!;
  const xView = { strides: pinned(x.strides, p.dim), offset: x.offset };
  walk(index, [xView], (at, ii, [xb]) => {
    const v = indexData[ii]!;
    checkIndex(p.name ?? "gather", v, p.axisSize, at, index.shape);
    out[at] = xData[xb! + v * step]!;
  });
}

/** out[…, index[…, j, …], …] += src[…, j, …] along p.dim, into a zeroed contiguous out. */
export function scatterAddInto(
  src: StridedView, srcData: TypedArray, index: StridedView, indexData: Int32Array, p: AxisIndexParams, out: TypedArray,
): void {
  const outShape = index.shape.map((s, d) => (d === p.dim ? p.axisSize : s));
  const outStrides = contiguousStrides(outShape);
  const step = outStrides[p.dim]!;
  const outView = { strides: pinned(outStrides, p.dim), offset: 0 };
  walk(index, [src, outView], (at, ii, [sb, ob]) => {
    const v = indexData[ii]!;
    checkIndex(p.name ?? "scatterAdd", v, p.axisSize, at, index.shape);
    out[ob! + v * step] += srcData[sb!]!;
  });
}

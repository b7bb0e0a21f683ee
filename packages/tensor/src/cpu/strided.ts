import type { StridedView } from "../backend.ts";
import { filled } from "../shape.ts";

/**
 * Visits the rows (last dimension) of several same-shaped strided views in row-major order, calling
 * `row(bases, length)` with each view's element index of the row's first element. Kernels then run their
 * inner loop with the views' last-dimension strides. A 0-d shape is one row of length 1.
 */
export function forEachRow(
  shape: readonly number[],
  views: readonly { strides: readonly number[]; offset: number }[],
  row: (bases: number[], length: number) => void,
): void {
  const rank = shape.length;
  if (shape.some((d) => d === 0)) return;
  const bases = views.map((v) => v.offset);
  if (rank <= 1) {
    row(bases, rank === 0 ? 1 : shape[0]!);
    return;
  }
  const outerRank = rank - 1;
  const counter = filled(outerRank, 0);
  const len = shape[rank - 1]!;
  for (;;) {
    row(bases, len);
    let d = outerRank - 1;
    for (; d >= 0; d--) {
      counter[d]!++;
      for (let v = 0; v < views.length; v++) bases[v]! += views[v]!.strides[d]!;
      if (counter[d]! < shape[d]!) break;
      for (let v = 0; v < views.length; v++) bases[v]! -= views[v]!.strides[d]! * shape[d]!;
      counter[d] = 0;
    }
    if (d < 0) return;
  }
}

/** A shape with one stride list per operand, as `collapseDims` returns it. */
export interface Collapsed {
  shape: number[];
  views: { strides: number[]; offset: number }[];
}

/**
 * The same iteration with as few dimensions as possible: size-1 dimensions are dropped and neighbours that
 * every view walks as one run (stride of the outer = stride of the inner × its size) are merged. A dense
 * [N, C, H, W] array minus a [1, C, 1, 1] one becomes [N, C, H·W] with the second operand's strides
 * [0, 1, 0], so kernels see long rows (H·W) instead of W-long ones and the row loop runs far fewer times.
 */
export function collapseDims(shape: readonly number[], views: readonly StridedView[]): Collapsed {
  // Built innermost first and reversed at the end: push is cheap, unshift a runtime call (see `filled`).
  const outShape: number[] = [];
  const outStrides: number[][] = views.map(() => []);
  for (let d = shape.length - 1; d >= 0; d--) {
    const size = shape[d]!;
    if (size === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && size !== 0) {
      // Merge d into the current outermost collapsed dimension when every view steps through them evenly.
      let mergeable = true;
      for (let v = 0; v < views.length; v++) {
        if (views[v]!.strides[d] !== outStrides[v]![last]! * outShape[last]!) {
          mergeable = false;
          break;
        }
      }
      if (mergeable) {
        outShape[last]! *= size;
        continue;
      }
    }
    outShape.push(size);
    for (let v = 0; v < views.length; v++) outStrides[v]!.push(views[v]!.strides[d]!);
  }
  // A shape with a 0 anywhere stays empty; one of only 1s is a single element.
  if (shape.some((d) => d === 0)) return { shape: [0], views: views.map((v) => ({ strides: [1], offset: v.offset })) };
  return { shape: reverse(outShape), views: views.map((v, i) => ({ strides: reverse(outStrides[i]!), offset: v.offset })) };
}

/** Reverses `a` in place and returns it. */
function reverse(a: number[]): number[] {
  for (let i = 0, j = a.length - 1; i < j; i++, j--) {
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return a;
}

/** Stride of the last dimension (1 for a 0-d view). */
export function innerStride(v: StridedView): number {
  return v.shape.length === 0 ? 1 : v.strides[v.shape.length - 1]!;
}

/** True when the view covers its storage's elements offset…offset+size in row-major order. */
export function isDense(v: StridedView): boolean {
  let expected = 1;
  for (let i = v.shape.length - 1; i >= 0; i--) {
    const d = v.shape[i]!;
    if (d !== 1 && v.strides[i] !== expected) return false;
    expected *= d;
  }
  return true;
}

import type { StridedView } from "../backend.ts";

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
  const counter = new Array<number>(outerRank).fill(0);
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

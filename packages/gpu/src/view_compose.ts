// A deferred result is defined over its own row-major elements: element f of a pending storage of shape `inner`
// reads each of its leaves at `offset + Σ m_k(f)·strides_k`, m(f) being f's multi-index in `inner`. A consumer
// that views the pending storage through another strided window (a transpose, a broadcast, a slice, a reshape)
// can take the leaves directly only when that window maps to leaf positions affinely; these functions find that
// map, or say there is none (the caller then runs the deferred work first).

import { contiguousStrides } from "@backprop/tensor";

/** A strided window: strides in elements per dimension of `shape`, and the first element's index. */
export interface Window {
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

/** Whether `w` walks all of a row-major `inner`-shaped block in order, from its start (a reshape of it, or itself). */
export function isWholeRowMajor(w: Window, size: number): boolean {
  if (w.offset !== 0) return false;
  let expected = 1;
  for (let i = w.shape.length - 1; i >= 0; i--) {
    if (w.shape[i] !== 1 && w.strides[i] !== expected) return false;
    expected *= w.shape[i]!;
  }
  return expected === size;
}

/**
 * Strides of the same elements as (`shape`, `strides`) under `newShape` without moving data, or null when no
 * strides can express it (PyTorch's `computeStride` for `view`).
 */
export function reshapeStrides(shape: readonly number[], strides: readonly number[], newShape: readonly number[]): number[] | null {
  const out = new Array<number>(newShape.length).fill(0);
  const size = newShape.reduce((a, b) => a * b, 1);
  if (size === 0 || shape.length === 0) return out;
  let viewD = newShape.length - 1;
  let chunkBase = strides[strides.length - 1] ?? 1;
  let tensorNumel = 1, viewNumel = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    tensorNumel *= shape[d]!;
    if (d === 0 || (shape[d - 1] !== 1 && strides[d - 1] !== tensorNumel * chunkBase)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] === 1)) {
        out[viewD] = viewNumel * chunkBase;
        viewNumel *= newShape[viewD]!;
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (d > 0) {
        chunkBase = strides[d - 1]!;
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  return viewD === -1 ? out : null;
}

/**
 * The leaf window seen through `outer`, a window on the pending storage of shape `inner` whose leaf is `leaf`
 * (shape `inner`): a window of shape `outer.shape`, or null when positions of `outer` do not map to leaf
 * positions by strides alone.
 */
export function composeWindow(inner: readonly number[], leaf: Window, outer: Window): Window | null {
  const size = inner.reduce((a, b) => a * b, 1);
  if (outer.offset < 0 || outer.strides.some((s) => s < 0)) return null;
  // A reshape of the whole block: the leaf's own strides re-expressed for the new shape.
  if (isWholeRowMajor(outer, size)) {
    const s = reshapeStrides(inner, leaf.strides, outer.shape);
    return s && { shape: outer.shape, strides: s, offset: leaf.offset };
  }
  const rows = contiguousStrides(inner);
  if (outer.offset >= size) return null;
  // The multi-index of the window's first element, then each window dimension as a step along one inner
  // dimension; valid when no combination of steps carries into the next inner dimension.
  const start = inner.map((n, k) => Math.floor(outer.offset / rows[k]!) % n);
  const reach = inner.map(() => 0);
  const strides: number[] = [];
  for (let d = 0; d < outer.shape.length; d++) {
    const n = outer.shape[d]!, s = outer.strides[d]!;
    if (n === 1 || s === 0) {
      strides.push(0);
      continue;
    }
    let k = inner.length - 1;
    while (k > 0 && (inner[k] === 1 || rows[k - 1]! <= s)) k--;
    // Skip leading size-1 dimensions: their row stride equals the next one's.
    while (k >= 0 && inner[k] === 1) k--;
    if (k < 0 || s % rows[k]! !== 0) return null;
    const step = s / rows[k]!;
    reach[k]! += step * (n - 1);
    strides.push(step * leaf.strides[k]!);
  }
  for (let k = 0; k < inner.length; k++) if (start[k]! + reach[k]! >= inner[k]!) return null;
  const offset = leaf.offset + start.reduce((acc, m, k) => acc + m * leaf.strides[k]!, 0);
  return { shape: outer.shape, strides, offset };
}

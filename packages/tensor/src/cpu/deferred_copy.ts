// A copy that makes a permuted view contiguous is recorded instead of run, when its destination is a
// fresh storage that it fills completely (how `contiguous()` works). The reason is the reductions: a sum
// over some axes is composed above the backend as permute → contiguous copy → row sums, and batch norm
// does that over [N, H, W] several times per layer and step — a full pass over the activations that only
// rearranges them. With the copy pending, `sumWithoutCopy` reads the rows straight from the source, and the
// copy never runs because the storage is released right after.
//
// Anything else that reads the destination (dataOf / ptrOf) runs the copy first. A copy into the source,
// or the source's release, first runs the copies that depend on it, so a pending copy always sees the
// source as it was when the copy was asked for.
import type { StridedView } from "../backend.ts";
import type { CpuStorage } from "./storage.ts";

/** Copies smaller than this run at once: recording them costs about what they cost. */
const DEFER_MIN_ELEMENTS = 1 << 12;

/** Whether the copy src → dst may be deferred: a float32 permutation filling a fresh storage completely. */
export function canDefer(src: StridedView, dst: CpuStorage, dense: boolean, coversDst: boolean): boolean {
  const s = src.storage as CpuStorage;
  return coversDst && dst.zeroPending && !dense && s !== dst && s.ptr !== 0 && dst.ptr !== 0 &&
    s.dtype === "float32" && dst.dtype === "float32" && dst.size >= DEFER_MIN_ELEMENTS;
}

/** Records the copy src → dst; `copyNow` performs it (with dst's pending state already cleared). */
export function deferCopy(src: StridedView, dst: CpuStorage, copyNow: (src: StridedView) => void): void {
  const source = src.storage as CpuStorage;
  // Keep the view's geometry, not the NDArray (which may be disposed before the copy runs).
  const view: StridedView = { storage: source, shape: [...src.shape], strides: [...src.strides], offset: src.offset };
  const link = new WeakRef(dst);
  dst.zeroPending = false;
  dst.pendingCopy = {
    source: view,
    link,
    run: () => {
      dst.pendingCopy = undefined;
      source.dependents?.delete(link);
      copyNow(view);
    },
  };
  (source.dependents ??= new Set()).add(link);
}

/** Runs every pending copy that reads `s` (before `s` is overwritten or released). */
export function flushDependents(s: CpuStorage): void {
  const deps = s.dependents;
  if (!deps || deps.size === 0) return;
  for (const link of [...deps]) link.deref()?.pendingCopy?.run();
  deps.clear();
}

/** Forgets the pending copy into `s` (it is being released unread). */
export function dropPendingCopy(s: CpuStorage): void {
  const p = s.pendingCopy;
  if (!p) return;
  s.pendingCopy = undefined;
  (p.source.storage as CpuStorage).dependents?.delete(p.link);
}

// Float32 row sums on storages in the kernels' memory, read in place: dense rows, or a permuted view whose
// kept dimensions merge into one and whose summed ones into at most two with a contiguous inner one (a sum
// over [N, H, W] of [N, C, H, W], as batch norm does). Other layouts take the TypeScript loop (reduce.ts).
import type { StridedView } from "../backend.ts";
import { type ArgLayout, dispatch, SUM_ARGS } from "./elementwise_wasm.ts";
import { wasmRuntime } from "./wasm/runtime.ts";
import { stagingBlock } from "./operand_address.ts";
import { ptrOf } from "./storage.ts";
import { collapseDims, isDense } from "./strided.ts";

const SUM_SLOT = 2;
/** Below this many elements the JavaScript-to-WebAssembly call costs more than the loop it replaces. */
const MIN_ELEMENTS = 64;

/** sumStridedF32(x, out, outer, outerStride, n1, stride1, n0): rows r are outerStride bytes apart. */
const SUM_STRIDED_ARGS: ArgLayout = {
  operands: [{ ptr: 0, row: 3, col: -1 }, { ptr: 1, row: () => 4, col: -1 }],
  rows: 2,
  cols: 6,
  splitCols: false,
};

/** out[r] = Σ x[r, :] over a float32 view seen as [outer, size]; false when this path does not apply. */
export function sumRowsWasm(x: StridedView, outer: number, size: number, out: Float32Array): boolean {
  if (x.storage.dtype !== "float32" || outer * size < MIN_ELEMENTS) return false;
  if (!isDense(x)) return sumOfView(x, outer, size, out);
  const px = ptrOf(x.storage);
  if (!px) return false;
  const at = stagingBlock(SUM_SLOT, outer * 4);
  // Rows are independent: a long enough sum splits by ranges of rows.
  dispatch("sumRowsF32", [[px + x.offset * 4, at, outer, size]], SUM_ARGS, outer * size);
  out.set(wasmRuntime().heap.f32.subarray(at >>> 2, (at >>> 2) + outer));
  return true;
}

/**
 * Row sums of a strided view seen as [outer, size] in row-major order, when its layout allows: the kept
 * dimensions collapse to one, the summed ones to at most two of which the inner is contiguous.
 */
function sumOfView(v: StridedView, outer: number, size: number, out: Float32Array): boolean {
  const shape = v.shape;
  let split = 0, product = 1;
  while (split < shape.length && product < outer) product *= shape[split++]!;
  if (product !== outer) return false;
  const part = (from: number, to: number) =>
    collapseDims(shape.slice(from, to), [{ storage: v.storage, shape: shape.slice(from, to), strides: v.strides.slice(from, to), offset: 0 }]);
  const kept = part(0, split), summed = part(split, shape.length);
  if (kept.shape.length > 1 || summed.shape.length > 2) return false;
  const outerStride = kept.shape.length ? kept.views[0]!.strides[0]! : 0;
  let n1 = 1, stride1 = 0, n0 = 1;
  const ss = summed.views[0]!.strides;
  if (summed.shape.length === 2) [n1, stride1, n0] = [summed.shape[0]!, ss[0]!, summed.shape[1]!];
  else if (summed.shape.length === 1) n0 = summed.shape[0]!;
  if (summed.shape.length > 0 && ss[ss.length - 1] !== 1) return false;
  if (n1 * n0 !== size) return false;
  const px = ptrOf(v.storage);
  if (!px) return false;
  const at = stagingBlock(SUM_SLOT, outer * 4);
  dispatch("sumStridedF32", [[px + v.offset * 4, at, outer, outerStride * 4, n1, stride1 * 4, n0]], SUM_STRIDED_ARGS, outer * size);
  out.set(wasmRuntime().heap.f32.subarray(at >>> 2, (at >>> 2) + outer));
  return true;
}

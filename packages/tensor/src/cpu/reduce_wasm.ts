// Float32 row sums on storages in the kernels' memory, read in place: dense rows; a permuted view whose
// kept dimensions merge into one and whose summed ones into at most two with a contiguous inner one (a sum
// over [N, H, W] of [N, C, H, W], as batch norm does); or one whose kept elements are contiguous, summed as
// columns (a bias gradient: the sum over the batch of [B, F]). Other layouts take the TypeScript loop (reduce.ts).
import type { StridedView } from "../backend.ts";
import { type ArgLayout, dispatch, SUM_ARGS } from "./elementwise_wasm.ts";
import { activeKernels, wasmRuntime } from "./wasm/runtime.ts";
import { stagingBlock } from "./operand_address.ts";
import { ptrOf } from "./storage.ts";
import { collapseDims, forEachRow, isDense } from "./strided.ts";

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
  if (!isDense(x)) return sumOfView(x, outer, size, out) || sumColumns(x, outer, size, out);
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

/** Rows added in float32 before their partial sums join the float64 totals. */
const COLUMN_BLOCK = 256;

/**
 * Column sums: when the kept dimensions merge into one contiguous run, out += each summed position's run of
 * `outer` floats, with the SIMD add kernel accumulating in place (its output row stride is 0). Blocks of rows
 * are added in float32, and the blocks' totals in double precision, as the row sums do.
 */
function sumColumns(v: StridedView, outer: number, size: number, out: Float32Array): boolean {
  const shape = v.shape;
  let split = 0, product = 1;
  while (split < shape.length && product < outer) product *= shape[split++]!;
  if (product !== outer || size === 0) return false;
  const part = (from: number, to: number) =>
    collapseDims(shape.slice(from, to), [{ storage: v.storage, shape: shape.slice(from, to), strides: v.strides.slice(from, to), offset: 0 }]);
  const kept = part(0, split), summed = part(split, shape.length);
  if (kept.shape.length !== 1 || kept.views[0]!.strides[0] !== 1 || summed.shape.length === 0) return false;
  const px = ptrOf(v.storage);
  if (!px) return false;
  const at = stagingBlock(SUM_SLOT, outer * 4);
  const add = activeKernels().addF32Strided;
  const totals = new Float64Array(outer);
  const rank = summed.shape.length, rowStride = summed.views[0]!.strides[rank - 1]!;
  forEachRow(summed.shape, summed.views, ([base], rows) => {
    for (let r = 0; r < rows; r += COLUMN_BLOCK) {
      const n = Math.min(COLUMN_BLOCK, rows - r);
      const f32 = wasmRuntime().heap.f32;
      f32.fill(0, at >>> 2, (at >>> 2) + outer);
      add(at, 0, 1, px + (v.offset + base! + r * rowStride) * 4, rowStride * 4, 1, at, 0, n, outer);
      for (let c = 0; c < outer; c++) totals[c] += f32[(at >>> 2) + c]!;
    }
  });
  out.set(totals);
  return true;
}

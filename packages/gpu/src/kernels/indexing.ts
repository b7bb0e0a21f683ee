import type { DType } from "@backprop/tensor";
import { entry1d, storageDecls } from "../bindings.ts";
import type { KernelSpec } from "../runtime.ts";
import { ERROR_INDEX_OUT_OF_RANGE } from "../runtime.ts";
import { stridedOffsets, stridedWords } from "../strided.ts";
import { wgslType } from "../wgsl_types.ts";

/**
 * Axis indexing over strided views, read in place. Each kernel walks one shape (the index's, or the output's)
 * with strided views whose stride along the indexed dimension is 0, so a view's offset is the element of the
 * position's line through that dimension; the index value (or the loop over the index) then steps along it.
 * After the strided block, the parameters are the words each kernel names, the last being the operation an
 * out-of-range index is reported under (its place in ERROR_OPS).
 *
 * A kernel cannot throw, so an out-of-range index is recorded in the device error word (the first one wins)
 * and reported by the next read; the offending element reads as zero or is skipped.
 *
 * scatterAdd gathers: each output element loops over the index entries that may target it, which is
 * deterministic and needs no atomics. When that loop would be long (many index entries and a long axis), a
 * scatter kernel with atomic compare-and-swap adds is used instead (its float sums may differ in the last bits
 * between runs).
 */
function words(rank: number, views: number, names: readonly string[]): string {
  const base = stridedWords(rank, views);
  return names.map((n, k) => `let ${n} = pu(${base + k}u);`).join(" ");
}

const FLAG = `
fn flag_(value: i32, size: u32, op: u32) {
  if (atomicCompareExchangeWeak(&errors[0], 0u, ${ERROR_INDEX_OUT_OF_RANGE}u).exchanged) {
    atomicStore(&errors[1], op);
    atomicStore(&errors[2], bitcast<u32>(value));
    atomicStore(&errors[3], size);
  }
}`;

const ERRORS: [string, string] = ["errors", "array<atomic<u32>, 4>"];

/** Words after the strided block of each kernel. */
export const GATHER_WORDS = ["axisSize", "xStep", "errorOp"] as const;
export const ADD_GATHER_WORDS = ["axisSize", "indexSize", "outInner", "indexStep", "srcStep", "errorOp"] as const;
export const ADD_ATOMIC_WORDS = ["axisSize", "outStep", "errorOp"] as const;

/** gather, one thread per index element; views (index, x pinned along the axis) over the index's shape. */
export function gatherKernel(dtype: DType, rank: number): KernelSpec {
  const t = wgslType(dtype);
  return {
    key: `gather:${dtype}:${rank}`,
    inputs: 2,
    outputs: 2,
    source: () => `${FLAG}
${storageDecls([["x", `array<${t}>`], ["index", "array<i32>"]], [["out", `array<${t}>`], ERRORS])}
${entry1d(256)}
  if (i >= pu(0u)) { return; }
  ${words(rank, 2, GATHER_WORDS)}
  ${stridedOffsets(rank, 2)}
  let v = index[o0];
  if (v < 0 || u32(v) >= axisSize) {
    flag_(v, axisSize, errorOp);
    out[i] = ${t}(0);
    return;
  }
  out[i] = x[o1 + u32(v) * xStep];
}`,
  };
}

/** True when the gathering add would loop over more index entries per output than is worth it. */
export function useAtomicAdd(axisSize: number, indexSize: number): boolean {
  return indexSize > 16 && axisSize * indexSize > 1 << 16;
}

/**
 * scatterAdd, one thread per output element, gathering; views (index, src), both pinned along the axis, over
 * the output's shape. `outInner` is the output's element count after the axis (to find the axis coordinate).
 */
export function addGatherKernel(dtype: DType, rank: number): KernelSpec {
  const t = wgslType(dtype);
  return {
    key: `scatterAdd:${dtype}:gather:${rank}`,
    inputs: 2,
    outputs: 2,
    source: () => `${FLAG}
${storageDecls([["src", `array<${t}>`], ["index", "array<i32>"]], [["out", `array<${t}>`], ERRORS])}
${entry1d(256)}
  if (i >= pu(0u)) { return; }
  ${words(rank, 2, ADD_GATHER_WORDS)}
  ${stridedOffsets(rank, 2)}
  let a = (i / outInner) % axisSize;
  var acc: ${t === "u32" ? "i32" : t} = 0;
  for (var j = 0u; j < indexSize; j++) {
    let v = index[o0 + j * indexStep];
    if (v == i32(a)) {
      acc += ${t === "u32" ? "i32(src[o1 + j * srcStep])" : "src[o1 + j * srcStep]"};
    } else if ((v < 0 || u32(v) >= axisSize) && a == 0u) {
      flag_(v, axisSize, errorOp);
    }
  }
  out[i] = ${t === "u32" ? "select(0u, 1u, acc != 0i)" : "acc"};
}`,
  };
}

/**
 * scatterAdd, one thread per source element, adding with atomics into a zeroed output; views (index, src, and
 * the contiguous output pinned along the axis, which has no binding) over the index's shape.
 */
export function addAtomicKernel(dtype: DType, rank: number): KernelSpec {
  const t = wgslType(dtype);
  const add = t === "f32"
    ? `var old = atomicLoad(&out[p]);
  loop {
    let r = atomicCompareExchangeWeak(&out[p], old, bitcast<u32>(bitcast<f32>(old) + src[o1]));
    if (r.exchanged) { break; }
    old = r.old_value;
  }`
    : t === "i32"
    ? "atomicAdd(&out[p], bitcast<u32>(src[o1]));"
    : "atomicOr(&out[p], src[o1]);";
  return {
    key: `scatterAdd:${dtype}:atomic:${rank}`,
    inputs: 2,
    outputs: 2,
    source: () => `${FLAG}
${storageDecls([["src", `array<${t}>`], ["index", "array<i32>"]], [["out", "array<atomic<u32>>"], ERRORS])}
${entry1d(256)}
  if (i >= pu(0u)) { return; }
  ${words(rank, 3, ADD_ATOMIC_WORDS)}
  ${stridedOffsets(rank, 3)}
  let v = index[o0];
  if (v < 0 || u32(v) >= axisSize) { flag_(v, axisSize, errorOp); return; }
  let p = o2 + u32(v) * outStep;
  ${add}
}`,
  };
}

import type { DType } from "@backprop/tensor";
import { entry1d, storageDecls } from "../bindings.ts";
import type { KernelSpec } from "../runtime.ts";
import { ERROR_INDEX_OUT_OF_RANGE, ERROR_OPS } from "../runtime.ts";
import { wgslType } from "../wgsl_types.ts";

/**
 * Axis indexing over a contiguous array seen as [outer, axisSize, inner] (params outer, axisSize, inner,
 * indexSize). A kernel cannot throw, so an out-of-range index is recorded in the device error word (the first
 * one wins) and reported by the next read; the offending element reads as zero or is skipped.
 *
 * The adds (scatterAdd, indexAdd) gather: each output element loops over the index entries that may target it,
 * which is deterministic and needs no atomics. When that loop would be long (many index entries and a long
 * axis), a scatter kernel with atomic compare-and-swap adds is used instead (its float sums may differ in the
 * last bits between runs).
 */
const PARAMS = `
  let outer = pu(0u); let axisSize = pu(1u); let inner = pu(2u); let indexSize = pu(3u);`;

function flagDecl(opName: (typeof ERROR_OPS)[number]): string {
  return `
fn flag_(value: i32, size: u32) {
  if (atomicCompareExchangeWeak(&errors[0], 0u, ${ERROR_INDEX_OUT_OF_RANGE}u).exchanged) {
    atomicStore(&errors[1], ${ERROR_OPS.indexOf(opName)}u);
    atomicStore(&errors[2], bitcast<u32>(value));
    atomicStore(&errors[3], size);
  }
}`;
}

const ERRORS: [string, string] = ["errors", "array<atomic<u32>, 4>"];

/** gather (per-element index [outer, indexSize, inner]) or indexSelect (one index row shared by all). */
export function selectKernel(op: "gather" | "indexSelect", dtype: DType): KernelSpec {
  const t = wgslType(dtype);
  const at = op === "gather" ? "i" : "j";
  return {
    key: `${op}:${dtype}`,
    inputs: 2,
    outputs: 2,
    source: () => `${flagDecl(op)}
${storageDecls([["x", `array<${t}>`], ["index", "array<i32>"]], [["out", `array<${t}>`], ERRORS])}
${entry1d(256)}${PARAMS}
  if (i >= outer * indexSize * inner) { return; }
  let o = i / (indexSize * inner); let j = (i / inner) % indexSize; let r = i % inner;
  let v = index[${at}];
  if (v < 0 || u32(v) >= axisSize) {
    ${op === "indexSelect" ? "if (o == 0u && r == 0u) { flag_(v, axisSize); }" : "flag_(v, axisSize);"}
    out[i] = ${t}(0);
    return;
  }
  out[i] = x[(o * axisSize + u32(v)) * inner + r];
}`,
  };
}

/** True when the gathering add would loop over more index entries per output than is worth it. */
export function useAtomicAdd(axisSize: number, indexSize: number): boolean {
  return indexSize > 16 && axisSize * indexSize > 1 << 16;
}

/** scatterAdd / indexAdd, one thread per output element of [outer, axisSize, inner], gathering. */
export function addGatherKernel(op: "scatterAdd" | "indexAdd", dtype: DType): KernelSpec {
  const t = wgslType(dtype);
  const idx = op === "scatterAdd" ? "(o * indexSize + j) * inner + r" : "j";
  return {
    key: `${op}:${dtype}:gather`,
    inputs: 2,
    outputs: 2,
    source: () => `${flagDecl(op)}
${storageDecls([["src", `array<${t}>`], ["index", "array<i32>"]], [["out", `array<${t}>`], ERRORS])}
${entry1d(256)}${PARAMS}
  if (i >= outer * axisSize * inner) { return; }
  let o = i / (axisSize * inner); let a = (i / inner) % axisSize; let r = i % inner;
  var acc: ${t === "u32" ? "i32" : t} = 0;
  for (var j = 0u; j < indexSize; j++) {
    let v = index[${idx}];
    if (v == i32(a)) {
      acc += ${t === "u32" ? "i32(src[(o * indexSize + j) * inner + r])" : "src[(o * indexSize + j) * inner + r]"};
    } else if ((v < 0 || u32(v) >= axisSize) && a == 0u${op === "indexAdd" ? " && o == 0u && r == 0u" : ""}) {
      flag_(v, axisSize);
    }
  }
  out[i] = ${t === "u32" ? "select(0u, 1u, acc != 0i)" : "acc"};
}`,
  };
}

/** scatterAdd / indexAdd, one thread per source element, adding with atomics into a zeroed output. */
export function addAtomicKernel(op: "scatterAdd" | "indexAdd", dtype: DType): KernelSpec {
  const t = wgslType(dtype);
  const idx = op === "scatterAdd" ? "i" : "j";
  const add = t === "f32"
    ? `var old = atomicLoad(&out[p]);
  loop {
    let r = atomicCompareExchangeWeak(&out[p], old, bitcast<u32>(bitcast<f32>(old) + src[i]));
    if (r.exchanged) { break; }
    old = r.old_value;
  }`
    : t === "i32"
    ? "atomicAdd(&out[p], bitcast<u32>(src[i]));"
    : "atomicOr(&out[p], src[i]);";
  return {
    key: `${op}:${dtype}:atomic`,
    inputs: 2,
    outputs: 2,
    source: () => `${flagDecl(op)}
${storageDecls([["src", `array<${t}>`], ["index", "array<i32>"]], [["out", "array<atomic<u32>>"], ERRORS])}
${entry1d(256)}${PARAMS}
  if (i >= outer * indexSize * inner) { return; }
  let o = i / (indexSize * inner); let j = (i / inner) % indexSize; let r = i % inner;
  let v = index[${idx}];
  if (v < 0 || u32(v) >= axisSize) { flag_(v, axisSize); return; }
  let p = (o * axisSize + u32(v)) * inner + r;
  ${add}
}`,
  };
}

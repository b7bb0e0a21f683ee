import type { ArgReduceOp, DType, ReduceOp } from "@backprop/tensor";
import { entry1d, storageDecls } from "../bindings.ts";
import type { KernelSpec } from "../runtime.ts";
import { stridedOffsets, stridedWords } from "../strided.ts";
import { wgslType } from "../wgsl_types.ts";

/** Rows at most this long are reduced by one thread each, in order (as the CPU does); longer ones by a workgroup. */
export const SEQUENTIAL_MAX = 32;
export const REDUCE_WG = 256;

export function combine(op: ReduceOp, t: string): { identity: string; fn: string } {
  const isF = t === "f32";
  switch (op) {
    case "sum": return { identity: isF ? "0.0" : "0i", fn: "a + b" };
    case "prod": return { identity: isF ? "1.0" : "1i", fn: "a * b" };
    // NaN wins, as on the CPU.
    case "max":
      return isF
        ? { identity: "-inf_()", fn: "select(select(b, a, a > b), select(a, b, isnan_(b)), isnan_(a) || isnan_(b))" }
        : { identity: "-2147483647i - 1i", fn: "max(a, b)" };
    case "min":
      return isF
        ? { identity: "inf_()", fn: "select(select(b, a, a < b), select(a, b, isnan_(b)), isnan_(a) || isnan_(b))" }
        : { identity: "2147483647i", fn: "min(a, b)" };
  }
}

/**
 * WGSL of `xoff_(i)`: the element index in x of flat row-major position i of a strided view of (collapsed)
 * rank `rank`, whose strided parameters (`writeStrided`, one view) open the parameter block.
 */
function viewOffset(rank: number): string {
  return `fn xoff_(i: u32) -> u32 {
  ${stridedOffsets(rank, 1)}
  return o0;
}`;
}

/** The four row words (outer, size, segLen, segs) of a reduction follow the view's strided parameters. */
function rowWords(rank: number): string {
  const b = stridedWords(rank, 1);
  return `let outer = pu(${b}u); let size = pu(${b + 1}u); let segLen = pu(${b + 2}u); let segs = pu(${b + 3}u);`;
}

/**
 * Reduces segments of the rows of a strided view x of rank `rank` (read in place, in row-major order): params
 * the view's strided block, then (outer, size, segLen, segs). Row r's segment s covers flat positions
 * r·size + s·segLen … and lands in out[r·segs + s]. One segment per row is the whole reduction; long rows
 * with few of them are cut into segments first and the partial results reduced again (two passes).
 * `sequential`: one thread per (row, segment), left to right; else one workgroup per segment with a tree.
 */
export function reduceKernel(op: ReduceOp, dtype: DType, sequential: boolean, rank: number): KernelSpec {
  const t = wgslType(dtype);
  const { identity, fn } = combine(op, t);
  const head = `fn combine_(a: ${t}, b: ${t}) -> ${t} { return ${fn}; }
${storageDecls([["x", `array<${t}>`]], [["out", `array<${t}>`]])}
${viewOffset(rank)}`;
  if (sequential) {
    return {
      key: `reduce:${op}:${dtype}:seq:${rank}`,
      inputs: 1,
      outputs: 1,
      source: () => `${head}
${entry1d(64)}
  ${rowWords(rank)}
${sequentialReduceBody(t, identity, "x[xoff_(j)]")}`,
    };
  }
  return {
    key: `reduce:${op}:${dtype}:tree:${rank}`,
    inputs: 1,
    outputs: 1,
    source: () => `${head}
var<workgroup> sh: array<${t}, ${REDUCE_WG}>;
@compute @workgroup_size(${REDUCE_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  ${rowWords(rank)}
${treeReduceBody(t, identity, "x[xoff_(j)]")}`,
  };
}

/**
 * Index of the first largest (smallest) value of each row of a strided view of rank `rank` (params its strided
 * block, then outer, size); NaN counts as the extreme, the first NaN wins, as on the CPU.
 */
export function argReduceKernel(op: ArgReduceOp, dtype: DType, sequential: boolean, rank: number): KernelSpec {
  const words = stridedWords(rank, 1);
  const t = wgslType(dtype);
  const gt = op === "argmax" ? ">" : "<";
  const nanTest = t === "f32" ? "isnan_" : "nonan_";
  // (v1, i1) beats (v2, i2): index −1 marks "nothing yet".
  const better = `fn nonan_(x: ${t}) -> bool { return false; }
fn better_(v1: ${t}, i1: i32, v2: ${t}, i2: i32) -> bool {
  if (i1 < 0) { return false; }
  if (i2 < 0) { return true; }
  let n1 = ${nanTest}(v1); let n2 = ${nanTest}(v2);
  if (n1 || n2) { return n1 && (!n2 || i1 < i2); }
  return v1 ${gt} v2 || (v1 == v2 && i1 < i2);
}
${storageDecls([["x", `array<${t}>`]], [["out", "array<i32>"]])}
${viewOffset(rank)}`;
  if (sequential) {
    return {
      key: `argreduce:${op}:${dtype}:seq:${rank}`,
      inputs: 1,
      outputs: 1,
      source: () => `${better}
${entry1d(64)}
  let outer = pu(${words}u); let size = pu(${words + 1}u);
  if (i >= outer) { return; }
  var bv = x[xoff_(i * size)]; var bi = 0i;
  for (var j = 1u; j < size; j++) {
    let v = x[xoff_(i * size + j)];
    if (better_(v, i32(j), bv, bi)) { bv = v; bi = i32(j); }
  }
  out[i] = bi;
}`,
    };
  }
  return {
    key: `argreduce:${op}:${dtype}:tree:${rank}`,
    inputs: 1,
    outputs: 1,
    source: () => `${better}
var<workgroup> shv: array<${t}, ${REDUCE_WG}>;
var<workgroup> shi: array<i32, ${REDUCE_WG}>;
@compute @workgroup_size(${REDUCE_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let outer = pu(${words}u); let size = pu(${words + 1}u);
  let r = wid.x + wid.y * nwg.x;
  let valid = r < outer;
  var bv: ${t}; var bi = -1i;
  if (valid) {
    for (var j = lid; j < size; j += ${REDUCE_WG}u) {
      let v = x[xoff_(r * size + j)];
      if (better_(v, i32(j), bv, bi)) { bv = v; bi = i32(j); }
    }
  }
  shv[lid] = bv; shi[lid] = bi;
  workgroupBarrier();
  for (var w = ${REDUCE_WG / 2}u; w > 0u; w = w >> 1u) {
    if (lid < w && better_(shv[lid + w], shi[lid + w], shv[lid], shi[lid])) {
      shv[lid] = shv[lid + w]; shi[lid] = shi[lid + w];
    }
    workgroupBarrier();
  }
  if (lid == 0u && valid) { out[r] = max(shi[0], 0i); }
}`,
  };
}

// The two reduction bodies, shared by the plain reduction and the one that reads a deferred expression; they run
// after `outer, size, segLen, segs` are bound, and `load` is the WGSL expression that reads element j.

/** One thread per (row, segment), left to right; the entry binds `i`. */
export function sequentialReduceBody(t: string, identity: string, load: string): string {
  return `  if (i >= outer * segs) { return; }
  let r = i / segs; let s = i % segs;
  let begin = r * size + s * segLen;
  let end = r * size + min(size, (s + 1u) * segLen);
  var acc: ${t} = ${identity};
  for (var j = begin; j < end; j++) { acc = combine_(acc, ${load}); }
  out[i] = acc;
}`;
}

/** One workgroup per (row, segment), a tree over `sh`; the entry binds `wid`, `nwg` and `lid`. */
export function treeReduceBody(t: string, identity: string, load: string): string {
  return `  let g = wid.x + wid.y * nwg.x;
  let valid = g < outer * segs;
  let r = g / segs; let s = g % segs;
  let begin = r * size + s * segLen;
  let end = r * size + min(size, (s + 1u) * segLen);
  var acc: ${t} = ${identity};
  if (valid) {
    for (var j = begin + lid; j < end; j += ${REDUCE_WG}u) { acc = combine_(acc, ${load}); }
  }
  sh[lid] = acc;
  workgroupBarrier();
  for (var w = ${REDUCE_WG / 2}u; w > 0u; w = w >> 1u) {
    if (lid < w) { sh[lid] = combine_(sh[lid], sh[lid + w]); }
    workgroupBarrier();
  }
  if (lid == 0u && valid) { out[g] = sh[0]; }
}`;
}

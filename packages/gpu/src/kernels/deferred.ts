// Kernels that run deferred elementwise work (see deferral.ts): a straight-line program over strided leaves,
// written into one or more outputs, or evaluated per element inside a row reduction (so the elementwise work
// before a sum costs no pass of its own).
//
// Each operation's result goes through `opq_`, an OR with the parameter block's always-zero word 63: the shader
// compiler cannot see through it, so it cannot fold across operations (x + (−x) → 0 is wrong for ∞ and NaN) or
// contract a product and a sum into one FMA. Every operand use goes through `opv_` (expr_wgsl.ts) with a
// multiplier of its own, so no two operands look equal (x − x is not folded to 0). Every operation therefore
// rounds as its own kernel would, and a deferred chain gives the op-by-op results.
import type { DType, Expr, ReduceOp } from "@backprop/tensor";
import { exprKey } from "@backprop/tensor";
import { entry1d, storageDecls } from "../bindings.ts";
import type { KernelSpec } from "../runtime.ts";
import { stridedOffsets, stridedWords } from "../strided.ts";
import { convert, CONVERT_WGSL, wgslType } from "../wgsl_types.ts";
import { OPAQUE_USE_WGSL, renderWgsl } from "./expr_wgsl.ts";
import { MATH_WGSL } from "./math.ts";
import { combine, REDUCE_WG, SEQUENTIAL_MAX, sequentialReduceBody, treeReduceBody } from "./reduce.ts";

/** One step of a deferred program; steps refer to earlier steps by index. */
export type Step =
  /**
   * Leaf `leaf` (a strided input binding), converted from its dtype to f32; with `sum`, a float32 split-K sum:
   * the slices' count and stride are parameter words `sum` and `sum + 1`, added in slice order.
   */
  | { readonly kind: "leaf"; readonly leaf: number; readonly sum?: number }
  /** Scalar parameter `param` (after the strided words of the parameter block). */
  | { readonly kind: "param"; readonly param: number }
  /** An expression whose input k is step `args[k]`. */
  | { readonly kind: "op"; readonly expr: Expr; readonly args: readonly number[] };

/** A straight-line program over leaves of `leafDtypes`, storing steps `outputs` as `outputDtypes`. */
export interface DeferredProgram {
  readonly steps: readonly Step[];
  readonly leafDtypes: readonly DType[];
  readonly params: number;
  readonly outputs: readonly number[];
  readonly outputDtypes: readonly DType[];
  /** Identifies the program (not its parameter values). */
  readonly key: string;
}

export function programKey(steps: readonly Step[], leafDtypes: readonly DType[], outputs: readonly number[], outputDtypes: readonly DType[]): string {
  const body = steps.map((s) =>
    s.kind === "leaf" ? `L${s.leaf}${s.sum === undefined ? "" : "+"}` : s.kind === "param" ? `P${s.param}` : `${exprKey(s.expr)}[${s.args.join(",")}]`
  );
  return `${leafDtypes.join(",")}|${body.join(";")}|${outputs.map((o, j) => `${o}:${outputDtypes[j]}`).join(",")}`;
}

const OPAQUE_WGSL = /* wgsl */ `
fn opq_(x: f32) -> f32 { return bitcast<f32>(bitcast<u32>(x) | pu(63u)); }
${OPAQUE_USE_WGSL}`;

const bufferName = (k: number) => `x${k}_`;

/**
 * `let t<j> = …;` for every step, leaves read at `o<k>` (declared by `stridedOffsets`) from the buffer
 * `leafName(k)`.
 */
function renderSteps(program: DeferredProgram, firstParam: number, leafName = bufferName): string {
  // Every operand use is made distinct (`opv_`), so t − t or two equal steps subtracted are not folded to 0.
  let use = 0;
  return program.steps.map((s, j) => {
    switch (s.kind) {
      case "leaf": {
        const x = leafName(s.leaf);
        if (s.sum === undefined) return `let t${j} = ${convert(`${x}[o${s.leaf}]`, program.leafDtypes[s.leaf]!, "float32")};`;
        // The order and roundings of the split-K sum kernel (gemm.ts), so the values are the same.
        const [count, stride] = [firstParam + s.sum, firstParam + s.sum + 1];
        return `var t${j} = ${x}[o${s.leaf}];
  for (var s${j} = 1u; s${j} < pu(${count}u); s${j}++) { t${j} = opq_(t${j} + ${x}[o${s.leaf} + s${j} * pu(${stride}u)]); }`;
      }
      case "param":
        return `let t${j} = pf(${firstParam + s.param}u);`;
      case "op":
        return `let t${j} = opq_(${renderWgsl(s.expr, { input: (k) => `opv_(t${s.args[k]}, ${++use}u)`, param: () => "0.0" })});`;
    }
  }).join("\n  ");
}

/** The value output `j` stores: a leaf of the output's dtype is copied exactly (int32 included), not through f32. */
function stored(program: DeferredProgram, j: number, leafName = bufferName): string {
  const step = program.steps[program.outputs[j]!]!, dtype = program.outputDtypes[j]!;
  if (step.kind === "leaf" && step.sum === undefined && program.leafDtypes[step.leaf] === dtype) return `${leafName(step.leaf)}[o${step.leaf}]`;
  const value = `t${program.outputs[j]}`;
  return dtype === "float32" ? value : convert(value, "float32", dtype);
}

function leafDecls(program: DeferredProgram): [string, string][] {
  return program.leafDtypes.map((d, k) => [`x${k}_`, `array<${wgslType(d)}>`]);
}

/** The elementwise kernel: every output is contiguous over the (collapsed) shape of rank `rank`. */
export function deferredKernel(program: DeferredProgram, rank: number): KernelSpec {
  const leaves = program.leafDtypes.length;
  return {
    key: `deferred:${rank}:${program.key}`,
    inputs: leaves,
    outputs: program.outputs.length,
    source: () => {
      const outs = program.outputDtypes.map((d, j) => [`out${j}`, `array<${wgslType(d)}>`] as [string, string]);
      const stores = program.outputs.map((_, j) => `out${j}[i] = ${stored(program, j)};`);
      return `${MATH_WGSL}${CONVERT_WGSL}${OPAQUE_WGSL}
${storageDecls(leafDecls(program), outs)}
${entry1d(256)}
  if (i >= pu(0u)) { return; }
  ${stridedOffsets(rank, leaves)}
  ${renderSteps(program, stridedWords(rank, leaves))}
  ${stores.join("\n  ")}
}`;
    },
  };
}

/** One program of a batch: its collapsed rank; its strided words and scalars start at word `base`. */
export interface BatchSegment {
  readonly program: DeferredProgram;
  readonly rank: number;
  readonly base: number;
}

/** `stridedOffsets` (strided.ts) for a parameter block that starts at word `base`. */
function offsetsFrom(base: number, rank: number, views: number): string {
  const lines: string[] = [];
  const viewBase = (k: number) => base + 1 + rank + k * (rank + 1);
  for (let k = 0; k < views; k++) lines.push(`var o${k} = pu(${viewBase(k)}u);`);
  lines.push("var rem = i;");
  for (let d = rank - 1; d >= 0; d--) {
    if (d > 0) lines.push(`{ let s = pu(${base + 1 + d}u); let c = rem % s; rem = rem / s;`);
    else lines.push("{ let c = rem;");
    for (let k = 0; k < views; k++) lines.push(`  o${k} += c * pu(${viewBase(k) + 1 + d}u);`);
    lines.push("}");
  }
  return lines.join("\n  ");
}

/**
 * Several independent multi-output programs (each over its own shape) in one dispatch: the flat index walks
 * segment 0's elements, then segment 1's, and so on; each segment's parameter block (element count first) starts
 * at its `base` word. Leaves are bound in segment order, then the outputs in segment order.
 */
export function deferredBatchKernel(segments: readonly BatchSegment[]): KernelSpec {
  const leafBase: number[] = [], outBase: number[] = [];
  let leaves = 0, outputs = 0;
  for (const s of segments) {
    leafBase.push(leaves);
    outBase.push(outputs);
    leaves += s.program.leafDtypes.length;
    outputs += s.program.outputs.length;
  }
  return {
    key: `deferred-batch:${segments.map((s) => `${s.rank}@${s.base}:${s.program.key}`).join("/")}`,
    inputs: leaves,
    outputs,
    source: () => {
      const ins = segments.flatMap((s, g) => s.program.leafDtypes.map((d, k) => [`x${leafBase[g]! + k}_`, `array<${wgslType(d)}>`] as [string, string]));
      const outs = segments.flatMap((s, g) => s.program.outputDtypes.map((d, j) => [`out${outBase[g]! + j}`, `array<${wgslType(d)}>`] as [string, string]));
      const fns = segments.map((s, g) => {
        const leafName = (k: number) => `x${leafBase[g]! + k}_`;
        const views = s.program.leafDtypes.length;
        const stores = s.program.outputs.map((_, j) => `out${outBase[g]! + j}[i] = ${stored(s.program, j, leafName)};`);
        return `fn segment${g}_(i: u32) {
  ${offsetsFrom(s.base, s.rank, views)}
  ${renderSteps(s.program, s.base + stridedWords(s.rank, views), leafName)}
  ${stores.join("\n  ")}
}`;
      });
      const dispatch = segments.map((s, g) => `if (j < pu(${s.base}u)) { segment${g}_(j); return; }
  j -= pu(${s.base}u);`);
      return `${MATH_WGSL}${CONVERT_WGSL}${OPAQUE_WGSL}
${storageDecls(ins, outs)}
${fns.join("\n")}
${entry1d(256)}
  var j = i;
  ${dispatch.join("\n  ")}
}`;
    },
  };
}

/** Word of the parameter block where a prologue reduction's (outer, size, segLen, segs) start. */
export function reduceWordsBase(rank: number, leaves: number, params: number): number {
  return stridedWords(rank, leaves) + params;
}

/**
 * `reduceKernel` (reduce.ts) with its row elements computed by the program's float32 output at each flat
 * index, instead of read from a buffer: the same loop order and tree, so the same sums as the two passes. A
 * program with several outputs reduces each into its own output buffer (a group of reductions of the same rows),
 * each in that same order.
 */
export function deferredReduceKernel(op: ReduceOp, program: DeferredProgram, rank: number, sequential: boolean): KernelSpec {
  const leaves = program.leafDtypes.length;
  const outputs = program.outputs.length;
  const base = reduceWordsBase(rank, leaves, program.params);
  const { identity, fn } = combine(op, "f32");
  const key = `deferred-reduce:${op}:${sequential ? "seq" : "tree"}:${rank}:${program.key}`;
  const outs = program.outputs.map((_, j) => [outputs === 1 ? "out" : `out${j}`, "array<f32>"] as [string, string]);
  const loaded = outputs === 1 ? `t${program.outputs[0]}` : `array<f32, ${outputs}>(${program.outputs.map((o) => `t${o}`).join(", ")})`;
  const head = () => `${MATH_WGSL}${CONVERT_WGSL}${OPAQUE_WGSL}
fn combine_(a: f32, b: f32) -> f32 { return ${fn}; }
${storageDecls(leafDecls(program), outs)}
fn load_(i: u32) -> ${outputs === 1 ? "f32" : `array<f32, ${outputs}>`} {
  ${stridedOffsets(rank, leaves)}
  ${renderSteps(program, stridedWords(rank, leaves))}
  return ${loaded};
}
fn reduceParams_() -> vec4<u32> { return vec4<u32>(pu(${base}u), pu(${base + 1}u), pu(${base + 2}u), pu(${base + 3}u)); }`;
  const params = `  let rp = reduceParams_();
  let outer = rp.x; let size = rp.y; let segLen = rp.z; let segs = rp.w;`;
  const tree = `@compute @workgroup_size(${REDUCE_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
${params}`;
  const spec = (source: () => string): KernelSpec => ({ key, inputs: leaves, outputs, source });
  if (outputs > 1) {
    const each = (f: (j: number) => string) => program.outputs.map((_, j) => f(j)).join(" ");
    if (sequential) {
      return spec(() => `${head()}
${entry1d(64)}
${params}
  if (i >= outer * segs) { return; }
  let r = i / segs; let s = i % segs;
  let begin = r * size + s * segLen;
  let end = r * size + min(size, (s + 1u) * segLen);
  ${each((j) => `var acc${j}: f32 = ${identity};`)}
  for (var j = begin; j < end; j++) { let v = load_(j); ${each((j) => `acc${j} = combine_(acc${j}, v[${j}]);`)} }
  ${each((j) => `out${j}[i] = acc${j};`)}
}`);
    }
    return spec(() => `${head()}
${each((j) => `var<workgroup> sh${j}: array<f32, ${REDUCE_WG}>;`)}
${tree}
  let g = wid.x + wid.y * nwg.x;
  let valid = g < outer * segs;
  let r = g / segs; let s = g % segs;
  let begin = r * size + s * segLen;
  let end = r * size + min(size, (s + 1u) * segLen);
  ${each((j) => `var acc${j}: f32 = ${identity};`)}
  if (valid) {
    for (var j = begin + lid; j < end; j += ${REDUCE_WG}u) { let v = load_(j); ${each((j) => `acc${j} = combine_(acc${j}, v[${j}]);`)} }
  }
  ${each((j) => `sh${j}[lid] = acc${j};`)}
  workgroupBarrier();
  for (var w = ${REDUCE_WG / 2}u; w > 0u; w = w >> 1u) {
    if (lid < w) { ${each((j) => `sh${j}[lid] = combine_(sh${j}[lid], sh${j}[lid + w]);`)} }
    workgroupBarrier();
  }
  if (lid == 0u && valid) { ${each((j) => `out${j}[g] = sh${j}[0];`)} }
}`);
  }
  if (sequential) {
    return spec(() => `${head()}
${entry1d(64)}
${params}
${sequentialReduceBody("f32", identity, "load_(j)")}`);
  }
  return spec(() => `${head()}
var<workgroup> sh: array<f32, ${REDUCE_WG}>;
${tree}
${treeReduceBody("f32", identity, "load_(j)")}`);
}

export { SEQUENTIAL_MAX };

// The CPU backend's fused elementwise kernel: float32 expressions compiled to one WebAssembly loop per
// expression list (cached by its text), run row by row over the collapsed, broadcast layout of the inputs.
import type { FusedProgram, Storage, StridedView } from "../backend.ts";
import { arity, type Expr, exprKey } from "../expr/ir.ts";
import { buildExprModule, wasmCompilable } from "./wasm/expr_kernel.ts";
import { PARALLEL_MIN_ELEMENTS, wasmRuntime, workerPool } from "./wasm/runtime.ts";
import { collapseDims, forEachRow } from "./strided.ts";
import { operandAddress, STAGE_MAX_ELEMENTS, stagingBlock } from "./operand_address.ts";
import { kernelMemoryAvailable } from "./kernel_memory.ts";
import { dataOf, ptrOf } from "./storage.ts";
import { BINARY_TABLE, type BinaryOp, UNARY_TABLE, type UnaryOp } from "../ops/op_table.ts";

type FusedFn = (...args: number[]) => void;

/** A compiled expression kernel with the bytes and id under which the worker threads compile and cache it. */
export interface FusedKernel {
  readonly fn: FusedFn;
  readonly id: number;
  readonly bytes: Uint8Array;
}

/** Compiled kernels by expression text; `null` remembers an expression list with no WebAssembly form. */
const compiled = new Map<string, FusedKernel | null>();
const exprText = new WeakMap<readonly Expr[], string>();
/** Inputs and parameters read, per expression list (walking the trees each call would cost more than a tiny pass). */
const arities = new WeakMap<readonly Expr[], { inputs: number; params: number }>();
/** Pieces per thread, so a thread the OS runs late only shifts a small share to the others. */
const PIECES_PER_THREAD = 4;
const MAX_CHUNKS = 64;

/**
 * The compiled kernel of `outputs` for inputs of which `broadcast[k]` are one value per row, or null when one of
 * its primitives has no WebAssembly form yet.
 */
export function fusedKernel(outputs: readonly Expr[], broadcast: readonly boolean[], params: number): FusedKernel | null {
  // The expressions' text is built once per expression list: on small arrays it would cost more than the pass.
  let text = exprText.get(outputs);
  if (text === undefined) exprText.set(outputs, (text = outputs.map(exprKey).join(";")));
  const key = `${broadcast.map((b) => (b ? "b" : "c")).join("")}:${params}:${text}`;
  let kernel = compiled.get(key);
  if (kernel !== undefined) return kernel;
  kernel = null;
  if (outputs.every(wasmCompilable)) {
    const rt = wasmRuntime();
    const bytes = buildExprModule(outputs, broadcast, params, rt.heap);
    const module = new WebAssembly.Module(bytes);
    const instance = new WebAssembly.Instance(module, { env: { memory: rt.heap.memory } });
    kernel = { fn: instance.exports.fused as FusedFn, id: compiled.size, bytes };
  }
  compiled.set(key, kernel);
  return kernel;
}

/**
 * Calls `kernel` once per segment, or, when the work is large and a worker pool runs, cuts the segments into
 * element ranges spread over the pool (each range is one call, so results equal the single-thread run exactly).
 */
function runSegments(kernel: FusedKernel, segments: number[][], inputs: number, outputs: number, elements: number): void {
  const n = 2 * inputs + outputs;
  const pool = elements >= PARALLEL_MIN_ELEMENTS && segments.length <= MAX_CHUNKS ? workerPool() : undefined;
  if (pool) {
    const perSegment = Math.max(1, Math.floor(Math.min(MAX_CHUNKS, PIECES_PER_THREAD * (pool.size + 1)) / segments.length));
    const chunks: number[][] = [];
    for (const seg of segments) {
      const len = seg[n]!, parts = Math.min(perSegment, Math.ceil(len / 16));
      for (let i = 0; i < parts; i++) {
        // Ranges start on 16-element boundaries so every piece keeps the vector loop's alignment.
        const from = Math.min(len, Math.floor((len * i) / parts) & ~15);
        const to = i === parts - 1 ? len : Math.min(len, Math.floor((len * (i + 1)) / parts) & ~15);
        if (to <= from) continue;
        const piece = [...seg];
        for (let k = 0; k < inputs; k++) piece[2 * k] = seg[2 * k]! + from * seg[2 * k + 1]!;
        for (let j = 0; j < outputs; j++) piece[2 * inputs + j] = seg[2 * inputs + j]! + from * 4;
        piece[n] = to - from;
        chunks.push(piece);
      }
    }
    if (pool.runModule(kernel.id, kernel.bytes, chunks, n + 1, (args) => kernel.fn(...args))) return;
  }
  for (const seg of segments) kernel.fn(...seg);
}

/**
 * Runs `program` into `outs` (contiguous float32 storages); false when this path does not apply (another dtype,
 * a primitive without a WebAssembly form, an input strided within its rows, an ordinary operand too large to
 * stage), and the caller computes op by op.
 *
 * Outputs that are ordinary arrays (under KERNEL_MEMORY_MIN_ELEMENTS: a per-sample loss at batch 32, a bias
 * vector's optimizer update, per-channel batch-norm math) are written to staging blocks in kernel memory and
 * copied out, as small inputs are copied in. Measured against a JavaScript loop generated per program (an
 * Adam update of 10–63 elements, three outputs), both passes take 2–5 µs once the outputs' allocation is
 * counted, a tenth of the op-by-op chain; staging wins on what remains: no second code path, the kernel is
 * already compiled and cached for the program, and a program gives the same values at every size (the loop
 * would round through Math.fround after each node and call Math.exp/log where the kernel uses its own float32
 * approximations, so results would change at 64 elements). `stageOutputs` is false for single ops
 * (unaryFusedWasm, binaryFusedWasm), whose small arrays keep the JavaScript loop and its correctly rounded
 * transcendental functions.
 */
export function fusedWasm(
  program: FusedProgram,
  inputs: readonly StridedView[],
  shape: readonly number[],
  params: readonly number[],
  outs: readonly Storage[],
  stageOutputs = true,
): boolean {
  if (program.dtype !== "float32" || inputs.some((v) => v.storage.dtype !== "float32")) return false;
  let counts = arities.get(program.outputs);
  if (!counts) arities.set(program.outputs, (counts = arity(program.outputs)));
  const { inputs: needed, params: nParams } = counts;
  if (needed > inputs.length) return false;
  const outPtrs = outs.map((o) => ptrOf(o));
  const staged = outPtrs.some((p) => !p);
  if (staged && !(stageOutputs && kernelMemoryAvailable() && outs.every((o) => o.size <= STAGE_MAX_ELEMENTS))) return false;
  const c = collapseDims(shape, inputs);
  const last = c.shape.length - 1;
  const steps = c.views.map((v) => (last >= 0 ? v.strides[last]! : 0));
  if (steps.some((s) => s > 1)) return false;
  const kernel = fusedKernel(program.outputs, steps.map((s) => s === 0), Math.max(nParams, params.length));
  if (!kernel) return false;
  // Output slots follow the inputs' (operandAddress uses slot k for input k).
  for (let j = 0; j < outs.length; j++) if (!outPtrs[j]) outPtrs[j] = stagingBlock(inputs.length + j, Math.max(1, outs[j]!.size) * 4);
  const bases: number[] = [];
  for (let k = 0; k < inputs.length; k++) {
    const at = operandAddress(inputs[k]!.storage, k);
    if (!at) return false;
    bases.push(at);
  }
  // Small work runs row by row at once with one argument array; large work collects its rows for the pool.
  const direct = shape.reduce((a, b) => a * b, 1) < PARALLEL_MIN_ELEMENTS;
  const segments: number[][] = [];
  let args: number[] = [];
  let written = 0;
  forEachRow(c.shape, c.views, (rowBases, n) => {
    if (!direct || written === 0) {
      args = new Array(2 * inputs.length + outs.length + 1 + params.length).fill(0);
      params.forEach((p, i) => (args[2 * inputs.length + outs.length + 1 + i] = p));
    }
    for (let k = 0; k < inputs.length; k++) {
      args[2 * k] = bases[k]! + rowBases[k]! * 4;
      args[2 * k + 1] = steps[k]! * 4;
    }
    for (let j = 0; j < outs.length; j++) args[2 * inputs.length + j] = outPtrs[j]! + written * 4;
    args[2 * inputs.length + outs.length] = n;
    if (direct) kernel.fn(...args);
    else segments.push(args);
    written += n;
  });
  if (!direct) runSegments(kernel, segments, inputs.length, outs.length, written);
  if (staged) {
    const f32 = wasmRuntime().heap.f32;
    outs.forEach((o, j) => {
      if (ptrOf(o)) return;
      const at = outPtrs[j]! >>> 2;
      (dataOf(o) as Float32Array).set(f32.subarray(at, at + o.size));
    });
  }
  return true;
}

const unaryPrograms = new Map<UnaryOp, FusedProgram>();

/**
 * A float32 unary op as the fused kernel of its op-table expression (`param` is ELU's alpha): the ops without a
 * hand-written WebAssembly kernel (exp, log, sigmoid, sign, floor, …) then run in WebAssembly rather than as a
 * JavaScript function per element. False where the fused kernel does not apply.
 */
export function unaryFusedWasm(op: UnaryOp, param: number | undefined, x: StridedView, out: Storage): boolean {
  if (out.dtype !== "float32" || x.storage.dtype !== "float32") return false;
  let program = unaryPrograms.get(op);
  if (!program) unaryPrograms.set(op, (program = { outputs: [UNARY_TABLE[op].expr], dtype: "float32", key: `unary:${op}` }));
  return fusedWasm(program, [x], x.shape, [param ?? 1], [out], false);
}

const binaryPrograms = new Map<BinaryOp, FusedProgram>();

/**
 * A float32 binary op without a hand-written WebAssembly kernel (maximum, minimum) as the fused kernel of its
 * op-table expression. False where it does not apply (bool results, a primitive without a WebAssembly form).
 */
export function binaryFusedWasm(op: BinaryOp, a: StridedView, b: StridedView, shape: readonly number[], out: Storage): boolean {
  if (out.dtype !== "float32" || a.storage.dtype !== "float32" || b.storage.dtype !== "float32") return false;
  let program = binaryPrograms.get(op);
  if (!program) binaryPrograms.set(op, (program = { outputs: [BINARY_TABLE[op].expr], dtype: "float32", key: `binary:${op}` }));
  return fusedWasm(program, [a, b], shape, [], [out], false);
}

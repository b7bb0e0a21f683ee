// The CPU backend's fused elementwise kernel: float32 expressions compiled to one WebAssembly loop per
// expression list (cached by its text), run over the collapsed, broadcast layout of the inputs: one call walks
// up to three dimensions (many rows), and large passes are cut into runs of rows for the worker pool.
import type { FusedProgram, Storage, StridedView } from "../backend.ts";
import { arity, type Expr, exprKey } from "../expr/ir.ts";
import { buildExprModule, EXPR_ARGS_PER_INPUT, wasmCompilable } from "./wasm/expr_kernel.ts";
import { fusedParallelMinElements, wasmRuntime, workerPool } from "./wasm/runtime.ts";
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
 * One kernel call's worth of the collapsed layout: `rows` rows of `n` elements (`columns` rows per outer step),
 * input k's row r at `bases[k]` + (⌊r / columns⌋ · outer[k] + (r mod columns) · inner[k]) · 4 bytes, written
 * contiguously from `out[j]`.
 */
interface Block {
  bases: number[];
  out: number[];
  rows: number;
  columns: number;
  n: number;
}

/** Per-input strides shared by every block of a pass (elements): inner row, outer row and within a row (0 or 1). */
interface BlockStrides {
  inner: readonly number[];
  outer: readonly number[];
  step: readonly number[];
}

/** The kernel arguments for rows [from, from + rows) of `block`, starting `skip` elements into the first row. */
function blockArgs(
  block: Block,
  s: BlockStrides,
  params: readonly number[],
  from: number,
  rows: number,
  skip: number,
  n: number,
): number[] {
  const inputs = s.inner.length, outputs = block.out.length;
  const args = new Array<number>(EXPR_ARGS_PER_INPUT * inputs + outputs + 4 + params.length);
  const outer = Math.floor(from / block.columns), column = from % block.columns;
  for (let k = 0; k < inputs; k++) {
    const at = EXPR_ARGS_PER_INPUT * k;
    args[at] = block.bases[k]! + (outer * s.outer[k]! + column * s.inner[k]! + skip * s.step[k]!) * 4;
    args[at + 1] = s.inner[k]! * 4;
    args[at + 2] = (s.outer[k]! - block.columns * s.inner[k]!) * 4;
  }
  const o = EXPR_ARGS_PER_INPUT * inputs;
  for (let j = 0; j < outputs; j++) args[o + j] = block.out[j]! + (from * block.n + skip) * 4;
  args[o + outputs] = column;
  args[o + outputs + 1] = block.columns;
  args[o + outputs + 2] = rows;
  args[o + outputs + 3] = n;
  params.forEach((p, i) => (args[o + outputs + 4 + i] = p));
  return args;
}

/**
 * The chunks of one block for the pool, at most `parts` of them: runs of whole rows when there are at least
 * `parts` rows, else pieces of each row cut on 16-element boundaries (so each keeps the vector loop's
 * alignment). Either way every element is computed by the same code as in the block's single call.
 */
function blockChunks(block: Block, s: BlockStrides, params: readonly number[], parts: number, chunks: number[][]): void {
  if (block.rows >= parts) {
    for (let i = 0; i < parts; i++) {
      const from = Math.floor((block.rows * i) / parts), to = Math.floor((block.rows * (i + 1)) / parts);
      if (to > from) chunks.push(blockArgs(block, s, params, from, to - from, 0, block.n));
    }
    return;
  }
  const len = block.n, perRow = Math.min(Math.floor(parts / block.rows), Math.ceil(len / 16));
  for (let r = 0; r < block.rows; r++) {
    for (let i = 0; i < perRow; i++) {
      const from = Math.min(len, Math.floor((len * i) / perRow) & ~15);
      const to = i === perRow - 1 ? len : Math.min(len, Math.floor((len * (i + 1)) / perRow) & ~15);
      if (to > from) chunks.push(blockArgs(block, s, params, r, 1, from, to - from));
    }
  }
}

/**
 * Calls `kernel` once per block, or, when the work is large and a worker pool runs, cuts the blocks into row
 * runs or row pieces spread over the pool (each element computed by the same code, so results equal the
 * single-thread run exactly).
 */
function runBlocks(kernel: FusedKernel, blocks: readonly Block[], s: BlockStrides, params: readonly number[], elements: number): void {
  const pool = elements >= fusedParallelMinElements() && blocks.length <= MAX_CHUNKS ? workerPool() : undefined;
  if (pool) {
    const parts = Math.max(1, Math.floor(Math.min(MAX_CHUNKS, PIECES_PER_THREAD * (pool.size + 1)) / blocks.length));
    const chunks: number[][] = [];
    for (const block of blocks) blockChunks(block, s, params, parts, chunks);
    const floatFrom = EXPR_ARGS_PER_INPUT * s.inner.length + blocks[0]!.out.length + 4;
    if (pool.runModule(kernel.id, kernel.bytes, chunks, floatFrom, (args) => kernel.fn(...args))) return;
  }
  for (const block of blocks) kernel.fn(...blockArgs(block, s, params, 0, block.rows, 0, block.n));
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
  // The kernel walks up to two outer dimensions itself: [outer, columns, n]. Leading dimensions beyond those
  // (rank > 3 after collapsing) are one block each.
  const rank = c.shape.length;
  const lead = Math.max(0, rank - 3);
  const dim = (d: number) => (d >= lead && d < rank - 1 ? c.shape[d]! : 1);
  const stride = (k: number, d: number) => (d >= lead && d < rank - 1 ? c.views[k]!.strides[d]! : 0);
  const n = rank === 0 ? 1 : c.shape[rank - 1]!;
  const columns = dim(rank - 2), rows = dim(rank - 3) * columns;
  const strides: BlockStrides = {
    inner: inputs.map((_, k) => stride(k, rank - 2)),
    outer: inputs.map((_, k) => stride(k, rank - 3)),
    step: steps,
  };
  const blocks: Block[] = [];
  let written = 0;
  // forEachRow takes its last dimension as the row: a trailing 1 makes it visit every block.
  const blockViews = c.views.map((v) => ({ strides: [...v.strides.slice(0, lead), 0], offset: v.offset }));
  forEachRow([...c.shape.slice(0, lead), 1], blockViews, (blockBases) => {
    if (n * rows === 0) return;
    blocks.push({
      bases: bases.map((b, k) => b + blockBases[k]! * 4),
      out: outPtrs.map((p) => p! + written * 4),
      rows,
      columns,
      n,
    });
    written += rows * n;
  });
  runBlocks(kernel, blocks, strides, params, written);
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

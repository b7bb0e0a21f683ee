// Float32 elementwise kernels and copies on storages that live in the kernels' memory: the
// operation's shape is collapsed to as few dimensions as its operands allow, the last two run in one
// WebAssembly SIMD call, and any further (outer) dimensions are looped here. Each entry point returns false
// when the operands do not fit (another dtype, an ordinary array too large to stage, a layout that is
// strided within rows), and the caller runs the TypeScript loop instead.
import type { BinaryOp, Storage, StridedView, UnaryOp } from "../backend.ts";
import { activeKernels, activeVariant, PARALLEL_MIN_ELEMENTS, workerPool } from "./wasm/runtime.ts";
import type { KernelExports, KernelName } from "./wasm/kernel_module.ts";
import type { StridedBinaryName, StridedUnaryName } from "./wasm/strided_kernel.ts";
import { type Collapsed, collapseDims } from "./strided.ts";
import { operandAddress } from "./operand_address.ts";
import { ptrOf } from "./storage.ts";
import { filled } from "../shape.ts";

const BINARY: Partial<Record<BinaryOp, StridedBinaryName>> = {
  add: "addF32Strided",
  sub: "subF32Strided",
  mul: "mulF32Strided",
  div: "divF32Strided",
  eq: "eqF32Strided",
  ne: "neF32Strided",
  lt: "ltF32Strided",
  gt: "gtF32Strided",
  le: "leF32Strided",
  ge: "geF32Strided",
};

const UNARY: Partial<Record<UnaryOp, StridedUnaryName>> = {
  neg: "negF32Strided",
  abs: "absF32Strided",
  square: "squareF32Strided",
  sqrt: "sqrtF32Strided",
  rsqrt: "rsqrtF32Strided",
  reciprocal: "reciprocalF32Strided",
  relu: "reluF32Strided",
};

/** Below this many elements the JavaScript-to-WebAssembly call costs more than the loop it replaces. */
const MIN_ELEMENTS = 64;

/** Calls `slab(offsets, rows, cols)` for each 2-D slab of a collapsed shape, `offsets` per view in elements. */
function forEachSlab(c: Collapsed, slab: (offsets: number[], rows: number, cols: number) => void): void {
  const rank = c.shape.length;
  const offsets = c.views.map((v) => v.offset);
  if (rank <= 2) {
    slab(offsets, rank === 2 ? c.shape[0]! : 1, rank === 0 ? 1 : c.shape[rank - 1]!);
    return;
  }
  const outer = rank - 2;
  const counter = filled(outer, 0);
  const rows = c.shape[rank - 2]!, cols = c.shape[rank - 1]!;
  for (;;) {
    slab(offsets, rows, cols);
    let d = outer - 1;
    for (; d >= 0; d--) {
      counter[d]!++;
      for (let v = 0; v < offsets.length; v++) offsets[v]! += c.views[v]!.strides[d]!;
      if (counter[d]! < c.shape[d]!) break;
      for (let v = 0; v < offsets.length; v++) offsets[v]! -= c.views[v]!.strides[d]! * c.shape[d]!;
      counter[d] = 0;
    }
    if (d < 0) return;
  }
}

/**
 * Where a strided kernel's arguments are: per operand its pointer, row stride and (for inputs) the flag
 * saying whether it is contiguous along the row; then rows and cols. Used to cut one call into pieces.
 */
export interface ArgLayout {
  /** Argument index of the pointer, of the row stride in bytes (or the stride itself, as a function of the
   * call), and of the contiguous-along-the-row flag (−1: always contiguous). */
  operands: readonly { ptr: number; row: number | ((call: readonly number[]) => number); col: number; bytes?: number }[];
  rows: number;
  cols: number;
  /** Whether a call may be cut between columns (not for sums, whose columns all feed one result). */
  splitCols: boolean;
}
const BINARY_ARGS: ArgLayout = {
  operands: [{ ptr: 0, row: 1, col: 2 }, { ptr: 3, row: 4, col: 5 }, { ptr: 6, row: 7, col: -1 }],
  rows: 8,
  cols: 9,
  splitCols: true,
};
/** A comparison writes one byte per element. */
const COMPARE_ARGS: ArgLayout = {
  ...BINARY_ARGS,
  operands: [BINARY_ARGS.operands[0]!, BINARY_ARGS.operands[1]!, { ptr: 6, row: 7, col: -1, bytes: 1 }],
};
const UNARY_ARGS: ArgLayout = {
  operands: [{ ptr: 0, row: 1, col: 2 }, { ptr: 3, row: 4, col: -1 }],
  rows: 5,
  cols: 6,
  splitCols: true,
};
/** sumRowsF32(x, out, rows, n): x rows are n floats apart, out rows one float. */
/** castU8F32Strided reads one byte per element. */
const CAST_ARGS: ArgLayout = { ...UNARY_ARGS, operands: [{ ptr: 0, row: 1, col: 2, bytes: 1 }, UNARY_ARGS.operands[1]!] };
/** transposeF32(src, srcLd, dst, dstLd, rows, cols): row i of dst is column i of src. */
const TRANSPOSE_ARGS: ArgLayout = {
  operands: [{ ptr: 0, row: () => 4, col: -1 }, { ptr: 2, row: (c) => c[3]! * 4, col: -1 }],
  rows: 4,
  cols: 5,
  splitCols: false,
};
export const SUM_ARGS: ArgLayout = {
  operands: [{ ptr: 0, row: (c) => c[3]! * 4, col: -1 }, { ptr: 1, row: () => 4, col: -1 }],
  rows: 2,
  cols: 3,
  splitCols: false,
};

/** Pieces per thread, so a thread the OS runs late only shifts a small share to the others. */
const PIECES_PER_THREAD = 4;
const MAX_CHUNKS = 64;

/** Cuts each call into pieces by rows (or, for calls of one row, by 16-float column ranges). */
function split(calls: number[][], layout: ArgLayout, pieces: number): number[][] {
  const out: number[][] = [];
  const perCall = Math.max(1, Math.min(Math.floor(MAX_CHUNKS / calls.length), Math.ceil(pieces / calls.length)));
  for (const call of calls) {
    const rows = call[layout.rows]!, cols = call[layout.cols]!;
    const byRows = rows > 1 || !layout.splitCols;
    const length = byRows ? rows : cols;
    const parts = Math.min(perCall, byRows ? rows : Math.ceil(cols / 16));
    for (let i = 0; i < parts; i++) {
      let from = Math.floor((length * i) / parts), to = Math.floor((length * (i + 1)) / parts);
      if (!byRows) [from, to] = [Math.min(cols, from & ~15), i === parts - 1 ? cols : Math.min(cols, to & ~15)];
      if (to <= from) continue;
      const piece = [...call];
      for (const o of layout.operands) {
        const rowBytes = typeof o.row === "number" ? call[o.row]! : o.row(call);
        piece[o.ptr] = call[o.ptr]! + (byRows ? from * rowBytes : from * (o.bytes ?? 4) * (o.col < 0 ? 1 : call[o.col]!));
      }
      piece[byRows ? layout.rows : layout.cols] = to - from;
      out.push(piece);
    }
  }
  return out;
}

/** Runs the calls of one operation, over the worker pool when the operation is large. */
export function dispatch(name: KernelName & keyof KernelExports, calls: number[][], layout: ArgLayout, elements: number): void {
  const kernel = activeKernels()[name] as (...args: number[]) => void;
  const pool = elements >= PARALLEL_MIN_ELEMENTS && calls.length <= MAX_CHUNKS ? workerPool() : undefined;
  if (!pool) {
    for (const c of calls) kernel(...c);
    return;
  }
  const chunks = split(calls, layout, PIECES_PER_THREAD * (pool.size + 1));
  if (chunks.length > MAX_CHUNKS) {
    for (const c of calls) kernel(...c);
    return;
  }
  pool.run(name, activeVariant(), chunks, (args) => kernel(...args));
}

/** Stride of a collapsed view's second-to-last and last dimension (0 where the shape has fewer). */
function lastStrides(c: Collapsed, v: number): [number, number] {
  const rank = c.shape.length, s = c.views[v]!.strides;
  return [rank >= 2 ? s[rank - 2]! : 0, rank >= 1 ? s[rank - 1]! : 0];
}

function isF32(s: Storage): boolean {
  return s.dtype === "float32";
}

/** out (contiguous, in kernel memory) = a ⊕ b (a bool for comparisons); false when this path does not apply. */
export function binaryWasm(op: BinaryOp, a: StridedView, b: StridedView, shape: readonly number[], out: Storage): boolean {
  const name = BINARY[op];
  const po = ptrOf(out);
  if (!name || !po || !isF32(a.storage) || !isF32(b.storage) || out.size < MIN_ELEMENTS) return false;
  const outBytes = out.dtype === "bool" ? 1 : 4;
  const c = collapseDims(shape, [a, b]);
  const [aRow, aCol] = lastStrides(c, 0), [bRow, bCol] = lastStrides(c, 1);
  if (aCol > 1 || bCol > 1 || (aCol === 0 && bCol === 0)) return false;
  const pa = operandAddress(a.storage, 0);
  const pb = pa && operandAddress(b.storage, 1);
  if (!pa || !pb) return false;
  const calls: number[][] = [];
  let o = po;
  forEachSlab(c, ([ao, bo], rows, cols) => {
    calls.push([pa + ao! * 4, aRow * 4, aCol, pb + bo! * 4, bRow * 4, bCol, o, cols * outBytes, rows, cols]);
    o += rows * cols * outBytes;
  });
  dispatch(name, calls, outBytes === 1 ? COMPARE_ARGS : BINARY_ARGS, out.size);
  return true;
}

/** out (contiguous, in kernel memory) = f(x); false when this path does not apply. */
export function unaryWasm(op: UnaryOp, x: StridedView, out: Storage): boolean {
  const name = UNARY[op];
  const po = ptrOf(out);
  if (!name || !po || !isF32(x.storage) || out.size < MIN_ELEMENTS) return false;
  return run1(name, x, po);
}

function run1(name: StridedUnaryName, x: StridedView, po: number): boolean {
  const c = collapseDims(x.shape, [x]);
  const [xRow, xCol] = lastStrides(c, 0);
  if (xCol > 1) return false;
  const px = operandAddress(x.storage, 0);
  if (!px) return false;
  const calls: number[][] = [];
  let o = po, elements = 0;
  forEachSlab(c, ([xo], rows, cols) => {
    calls.push([px + xo! * 4, xRow * 4, xCol, o, cols * 4, rows, cols]);
    o += rows * cols * 4;
    elements += rows * cols;
  });
  dispatch(name, calls, UNARY_ARGS, elements);
  return true;
}

/**
 * dst = src for views of storages in kernel memory, float32 to float32 or bool to float32, dst's rows
 * contiguous; false otherwise.
 */
export function copyWasm(src: StridedView, dst: StridedView): boolean {
  const ps = ptrOf(src.storage), pd = ptrOf(dst.storage);
  const fromBool = src.storage.dtype === "bool";
  if (!ps || !pd || !(isF32(src.storage) || fromBool) || !isF32(dst.storage)) return false;
  const c = collapseDims(src.shape, [src, dst]);
  const [sRow, sCol] = lastStrides(c, 0), [dRow, dCol] = lastStrides(c, 1);
  // Overlapping source and destination (a copy within one storage) would depend on the order of the loop.
  if (src.storage === dst.storage || dCol !== 1) return false;
  if (sCol > 1 && sRow === 1 && !fromBool && c.shape.length >= 2) {
    // A transposed view made contiguous: the source's rows are its columns.
    const calls: number[][] = [];
    let elements = 0;
    forEachSlab(c, ([so, dO], rows, cols) => {
      calls.push([ps + so! * 4, sCol, pd + dO! * 4, dRow, rows, cols]);
      elements += rows * cols;
    });
    dispatch("transposeF32", calls, TRANSPOSE_ARGS, elements);
    return true;
  }
  if (sCol > 1) return false;
  const sBytes = fromBool ? 1 : 4;
  const calls: number[][] = [];
  let elements = 0;
  forEachSlab(c, ([so, dO], rows, cols) => {
    calls.push([ps + so! * sBytes, sRow * sBytes, sCol, pd + dO! * 4, dRow * 4, rows, cols]);
    elements += rows * cols;
  });
  dispatch(fromBool ? "castU8F32Strided" : "copyF32Strided", calls, fromBool ? CAST_ARGS : UNARY_ARGS, elements);
  return true;
}

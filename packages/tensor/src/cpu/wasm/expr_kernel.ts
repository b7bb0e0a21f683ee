// Compiles expressions of the IR (src/expr/ir.ts) into one float32 WebAssembly loop: a fused elementwise
// kernel that reads each input once, keeps every intermediate in registers and writes each output once.
//
// fused(in0, rowStep0, wrapStep0, …, out0, …, outM, column, columns, rows, n, p0, …, pP) runs `rows` rows of n
// elements, writing the outputs contiguously (row after row): out_j[r·n + i] = expr_j(inputs of row r, params).
// Input k's row r starts at in_k (bytes); each next row adds rowStep_k, and when the inner row counter (starting
// at `column`) reaches `columns` it restarts at 0 and wrapStep_k is added too. So one call covers a collapsed
// [outer, columns, n] layout (wrapStep = outer stride − columns · rowStep) or any run of its rows, which is how
// a pass is cut for the worker pool. Which inputs are one broadcast value per row rather than contiguous is part
// of the compiled kernel (`broadcast`). Each row: four elements per trip in f32x4 lanes, then a scalar tail. Each node is computed in float32 and rounded as the op-by-op kernels round
// it, so a fused chain of add/sub/mul/div/sqrt/min/max/compare/select equals the unfused chain bit for bit.
// max and min are a comparison and a select, not f32.max: V8 compiles the scalar f32.max to branches that
// mispredict on random data (7 ns per element), and the select also gives the op-by-op result for ±0.
import type { Expr, PrimBinary, PrimUnary } from "../../expr/ir.ts";
import { PRIM_COMPARISONS } from "../../expr/ir.ts";
import { InternalError } from "../../errors.ts";
import { type FunctionBuilder, type Local, ModuleBuilder, ValType } from "./emitter.ts";
import {
  emitCosF32x4,
  emitExpF32x4,
  emitExpm1F32x4,
  emitLog1pF32x4,
  emitLogF32x4,
  emitPowF32x4,
  emitSinF32x4,
  emitTanhF32x4,
} from "./expr_math.ts";

const { i32, f32, v128 } = ValType;

/** i32 arguments per input of `fused`: the first row's address, the row step and the outer wrap step (bytes). */
export const EXPR_ARGS_PER_INPUT = 3;

/** Transcendental primitives as f32x4 lane code (expr_math.ts); the scalar tail runs the same code on a splat. */
const LANE_FUNCTIONS: Partial<Record<PrimUnary, (f: FunctionBuilder, x: Local) => void>> = {
  exp: emitExpF32x4,
  log: emitLogF32x4,
  expm1: emitExpm1F32x4,
  log1p: emitLog1pF32x4,
  tanh: emitTanhF32x4,
  sin: emitSinF32x4,
  cos: emitCosF32x4,
};

/** Binary primitives as f32x4 lane code, likewise. */
const BINARY_LANE_FUNCTIONS: Partial<Record<PrimBinary, (f: FunctionBuilder, a: Local, b: Local) => void>> = {
  pow: emitPowF32x4,
};

/** Whether every node of `e` has a float32 WebAssembly form here (every primitive of the IR has one today). */
export function wasmCompilable(e: Expr): boolean {
  switch (e.kind) {
    case "input":
    case "param":
    case "const":
      return true;
    case "unary":
      return (["neg", "abs", "sqrt", "floor", "ceil", "round", "isnan", "nonzero"].includes(e.op) || e.op in LANE_FUNCTIONS) &&
        wasmCompilable(e.x);
    case "binary":
      return wasmCompilable(e.a) && wasmCompilable(e.b);
    case "select":
      return wasmCompilable(e.cond) && wasmCompilable(e.a) && wasmCompilable(e.b);
  }
}

/** Emits `e` as an i32 0/1 (conditions: comparisons directly, other values as "non-zero, NaN included"). */
function emitCondition(f: FunctionBuilder, e: Expr, leaf: Leaves): void {
  if (e.kind === "binary" && PRIM_COMPARISONS.has(e.op)) {
    if (e.op === "and" || e.op === "or") {
      emitCondition(f, e.a, leaf);
      emitCondition(f, e.b, leaf);
      if (e.op === "and") f.i32And();
      else f.i32Or();
      return;
    }
    f.f32Compare(e.op as "eq" | "ne" | "lt" | "gt" | "le" | "ge", () => emitValue(f, e.a, leaf), () => emitValue(f, e.b, leaf));
    return;
  }
  // NaN ≠ 0 is true, as the float64 definition of "non-zero".
  f.f32Ne(() => emitValue(f, e, leaf), () => f.f32Const(0));
}

/** Where an expression's leaves are: scalar locals for the tail loop, f32x4 locals for the main loop. */
interface Leaves {
  inputs: readonly Local[];
  params: readonly Local[];
  vInputs: readonly Local[];
  vParams: readonly Local[];
}

/**
 * Primitives that are one instruction each way: the scalar form (the tail loop) and the f32x4 form (the main
 * loop). The rest differ in more than the instruction and are written out in emitValue and emitVector.
 */
type UnaryInstruction = "Neg" | "Abs" | "Sqrt" | "Floor" | "Ceil" | "Nearest";
type BinaryInstruction = "Add" | "Sub" | "Mul" | "Div";
const ONE_INSTRUCTION_UNARY: Partial<Record<PrimUnary, readonly [`f32${UnaryInstruction}`, `f32x4${UnaryInstruction}`]>> = {
  neg: ["f32Neg", "f32x4Neg"],
  abs: ["f32Abs", "f32x4Abs"],
  sqrt: ["f32Sqrt", "f32x4Sqrt"],
  floor: ["f32Floor", "f32x4Floor"],
  ceil: ["f32Ceil", "f32x4Ceil"],
  round: ["f32Nearest", "f32x4Nearest"],
};
const ONE_INSTRUCTION_BINARY: Partial<Record<PrimBinary, readonly [`f32${BinaryInstruction}`, `f32x4${BinaryInstruction}`]>> = {
  add: ["f32Add", "f32x4Add"],
  sub: ["f32Sub", "f32x4Sub"],
  mul: ["f32Mul", "f32x4Mul"],
  div: ["f32Div", "f32x4Div"],
};

function emitValue(f: FunctionBuilder, e: Expr, leaf: Leaves): void {
  switch (e.kind) {
    case "input": f.get(leaf.inputs[e.index]!); return;
    case "param": f.get(leaf.params[e.index]!); return;
    case "const": f.f32Const(e.value); return;
    case "unary": {
      const x = () => emitValue(f, e.x, leaf);
      const one = ONE_INSTRUCTION_UNARY[e.op];
      if (one) {
        f[one[0]](x);
        return;
      }
      switch (e.op) {
        // The lane code of expr_math.ts on a splatted value, so the tail computes exactly what the lanes do.
        case "exp":
        case "log":
        case "expm1":
        case "log1p":
        case "tanh":
        case "sin":
        case "cos": {
          const t = f.local(v128);
          f.set(t, () => f.f32x4Splat(x));
          f.f32x4ExtractLane(0, () => LANE_FUNCTIONS[e.op]!(f, t));
          return;
        }
        case "isnan": {
          const t = f.local(f32);
          f.f32ConvertI32S(() => f.f32Ne(() => f.tee(t, x), t));
          return;
        }
        case "nonzero": f.f32ConvertI32S(() => emitCondition(f, e.x, leaf)); return;
      }
      throw new InternalError(`fused: primitive ${e.op} has no WebAssembly form (wasmCompilable should have said so)`);
    }
    case "binary": {
      if (PRIM_COMPARISONS.has(e.op)) {
        f.f32ConvertI32S(() => emitCondition(f, e, leaf));
        return;
      }
      const a = () => emitValue(f, e.a, leaf), b = () => emitValue(f, e.b, leaf);
      const one = ONE_INSTRUCTION_BINARY[e.op];
      if (one) {
        f[one[0]](a, b);
        return;
      }
      switch (e.op) {
        // a where a > b (a < b) or a is NaN, else b: NaN propagates from either side.
        case "max":
        case "min": {
          const ta = f.local(f32), tb = f.local(f32);
          f.set(ta, a);
          f.set(tb, b);
          f.select(ta, tb, () => f.i32Or(() => f.f32Compare(e.op === "max" ? "gt" : "lt", ta, tb), () => f.f32Ne(ta, ta)));
          return;
        }
        case "pow": {
          const ta = f.local(v128), tb = f.local(v128);
          f.set(ta, () => f.f32x4Splat(a));
          f.set(tb, () => f.f32x4Splat(b));
          f.f32x4ExtractLane(0, () => BINARY_LANE_FUNCTIONS.pow!(f, ta, tb));
          return;
        }
      }
      throw new InternalError(`fused: primitive ${e.op} has no WebAssembly form (wasmCompilable should have said so)`);
    }
    case "select":
      f.select(() => emitValue(f, e.a, leaf), () => emitValue(f, e.b, leaf), () => emitCondition(f, e.cond, leaf));
      return;
  }
}

/** Emits `e` as an f32x4 lane mask (all ones where true). */
function emitVectorCondition(f: FunctionBuilder, e: Expr, leaf: Leaves): void {
  if (e.kind === "binary" && PRIM_COMPARISONS.has(e.op)) {
    if (e.op === "and" || e.op === "or") {
      const a = () => emitVectorCondition(f, e.a, leaf), b = () => emitVectorCondition(f, e.b, leaf);
      if (e.op === "and") f.v128And(a, b);
      else f.v128Or(a, b);
      return;
    }
    f.f32x4Compare(e.op as "eq" | "ne" | "lt" | "gt" | "le" | "ge", () => emitVector(f, e.a, leaf), () => emitVector(f, e.b, leaf));
    return;
  }
  f.f32x4Compare("ne", () => emitVector(f, e, leaf), () => f.v128Zero());
}

/** 1.0 in lanes where the mask is set, 0.0 elsewhere. */
function maskToOne(f: FunctionBuilder, mask: () => void): void {
  f.v128And(mask, () => f.f32x4Splat(() => f.f32Const(1)));
}

function emitVector(f: FunctionBuilder, e: Expr, leaf: Leaves): void {
  switch (e.kind) {
    case "input": f.get(leaf.vInputs[e.index]!); return;
    case "param": f.get(leaf.vParams[e.index]!); return;
    case "const": f.f32x4Splat(() => f.f32Const(e.value)); return;
    case "unary": {
      const x = () => emitVector(f, e.x, leaf);
      const one = ONE_INSTRUCTION_UNARY[e.op];
      if (one) {
        f[one[1]](x);
        return;
      }
      switch (e.op) {
        case "exp":
        case "log":
        case "expm1":
        case "log1p":
        case "tanh":
        case "sin":
        case "cos": {
          const t = f.local(v128);
          f.set(t, x);
          LANE_FUNCTIONS[e.op]!(f, t);
          return;
        }
        case "isnan": {
          const t = f.local(v128);
          f.set(t, x);
          maskToOne(f, () => f.f32x4Compare("ne", t, t));
          return;
        }
        case "nonzero": maskToOne(f, () => emitVectorCondition(f, e.x, leaf)); return;
      }
      throw new InternalError(`fused: primitive ${e.op} has no WebAssembly form (wasmCompilable should have said so)`);
    }
    case "binary": {
      if (PRIM_COMPARISONS.has(e.op)) {
        maskToOne(f, () => emitVectorCondition(f, e, leaf));
        return;
      }
      const a = () => emitVector(f, e.a, leaf), b = () => emitVector(f, e.b, leaf);
      const one = ONE_INSTRUCTION_BINARY[e.op];
      if (one) {
        f[one[1]](a, b);
        return;
      }
      switch (e.op) {
        case "max":
        case "min": {
          const ta = f.local(v128), tb = f.local(v128);
          f.set(ta, a);
          f.set(tb, b);
          f.v128Bitselect(ta, tb, () => f.v128Or(() => f.f32x4Compare(e.op === "max" ? "gt" : "lt", ta, tb), () => f.f32x4Compare("ne", ta, ta)));
          return;
        }
        case "pow": {
          const ta = f.local(v128), tb = f.local(v128);
          f.set(ta, a);
          f.set(tb, b);
          BINARY_LANE_FUNCTIONS.pow!(f, ta, tb);
          return;
        }
      }
      throw new InternalError(`fused: primitive ${e.op} has no WebAssembly form (wasmCompilable should have said so)`);
    }
    case "select":
      f.v128Bitselect(() => emitVector(f, e.a, leaf), () => emitVector(f, e.b, leaf), () => emitVectorCondition(f, e.cond, leaf));
      return;
  }
}

/**
 * The module bytes of `fused` for `outputs` over inputs (`broadcast[k]`: input k is one value per row) and
 * `params` parameters.
 */
export function buildExprModule(
  outputs: readonly Expr[],
  broadcast: readonly boolean[],
  params: number,
  memory: { shared: boolean; maximumPages: number },
): Uint8Array<ArrayBuffer> {
  const inputs = broadcast.length;
  const mb = new ModuleBuilder();
  mb.importMemory({ module: "env", field: "memory", initialPages: 1, maximumPages: memory.maximumPages, shared: memory.shared });
  const signature = [...Array(EXPR_ARGS_PER_INPUT * inputs + outputs.length + 4).fill(i32), ...Array(params).fill(f32)];
  const f = mb.func("fused", signature);
  const base = (k: number) => f.params[EXPR_ARGS_PER_INPUT * k]!;
  const rowStep = (k: number) => f.params[EXPR_ARGS_PER_INPUT * k + 1]!;
  const wrapStep = (k: number) => f.params[EXPR_ARGS_PER_INPUT * k + 2]!;
  const out = (j: number) => f.params[EXPR_ARGS_PER_INPUT * inputs + j]!;
  const [column, columns, rows, n] = [0, 1, 2, 3].map((i) => f.params[EXPR_ARGS_PER_INPUT * inputs + outputs.length + i]!) as [
    Local,
    Local,
    Local,
    Local,
  ];
  const scalarParams = Array.from({ length: params }, (_, p) => f.params[EXPR_ARGS_PER_INPUT * inputs + outputs.length + 4 + p]!);
  const leaves: Leaves = {
    inputs: Array.from({ length: inputs }, () => f.local(f32)),
    params: scalarParams,
    vInputs: Array.from({ length: inputs }, () => f.local(v128)),
    vParams: Array.from({ length: params }, () => f.local(v128)),
  };
  const ptr = Array.from({ length: inputs }, () => f.local(i32));
  const left = f.local(i32);
  const results = outputs.map(() => f.local(f32));
  const vResults = outputs.map(() => f.local(v128));
  f.if(() => f.i32Or(() => f.i32LtS(n, 1), () => f.i32LtS(rows, 1)), () => f.return());
  scalarParams.forEach((p, i) => f.set(leaves.vParams[i]!, () => f.f32x4Splat(p)));
  // One trip per row. Outputs are contiguous, so their pointers simply run on from row to row.
  f.loop((nextRow) => {
    for (let k = 0; k < inputs; k++) {
      f.set(ptr[k]!, base(k));
      // A broadcast input is the same for every element of the row: read and splat it once.
      if (!broadcast[k]) continue;
      f.set(leaves.inputs[k]!, () => f.f32Load(0, ptr[k]!));
      f.set(leaves.vInputs[k]!, () => f.f32x4Splat(leaves.inputs[k]!));
    }
    f.set(left, n);
    f.block((exit) => {
      f.loop((top) => {
        f.brIf(exit, () => f.i32LtS(left, 4));
        for (let k = 0; k < inputs; k++) {
          if (broadcast[k]) continue;
          f.set(leaves.vInputs[k]!, () => f.v128Load(0, ptr[k]!));
          f.inc(ptr[k]!, 16);
        }
        // Every output is computed before any is stored: an output may be written over one of the inputs.
        outputs.forEach((e, j) => f.set(vResults[j]!, () => emitVector(f, e, leaves)));
        outputs.forEach((_, j) => {
          f.v128Store(0, out(j), vResults[j]!);
          f.inc(out(j), 16);
        });
        f.set(left, () => f.i32Sub(left, 4));
        f.br(top);
      });
    });
    f.if(() => f.i32GtS(left, 0), () =>
      f.doWhileDecrement(left, () => {
        for (let k = 0; k < inputs; k++) {
          if (broadcast[k]) continue;
          f.set(leaves.inputs[k]!, () => f.f32Load(0, ptr[k]!));
          f.inc(ptr[k]!, 4);
        }
        outputs.forEach((e, j) => f.set(results[j]!, () => emitValue(f, e, leaves)));
        outputs.forEach((_, j) => {
          f.f32Store(0, out(j), results[j]!);
          f.inc(out(j), 4);
        });
      }));
    // Next row: one step along the inner row dimension, and at its end the step to the next outer row.
    for (let k = 0; k < inputs; k++) f.inc(base(k), rowStep(k));
    f.inc(column, 1);
    f.if(() => f.i32Eq(column, columns), () => {
      f.set(column, () => f.i32Const(0));
      for (let k = 0; k < inputs; k++) f.inc(base(k), wrapStep(k));
    });
    f.brIf(nextRow, () => f.tee(rows, () => f.i32Sub(rows, 1)));
  });
  return mb.build();
}

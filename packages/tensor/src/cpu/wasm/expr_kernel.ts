// Compiles expressions of the IR (src/expr/ir.ts) into one float32 WebAssembly loop: a fused elementwise
// kernel that reads each input once, keeps every intermediate in registers and writes each output once.
//
// fused(in0, step0, …, inK, stepK, out0, …, outM, n, p0, …, pP): for i < n, out_j[i] = expr_j(inputs, params).
// Input k advances by step_k bytes per element (4: contiguous along the row, 0: one broadcast value); outputs
// are contiguous. Each node is computed in float32 and rounded as the op-by-op kernels round it, so a fused
// chain of add/sub/mul/div/sqrt/min/max/compare/select equals the unfused chain bit for bit.
import type { Expr } from "../../expr/ir.ts";
import { PRIM_COMPARISONS } from "../../expr/ir.ts";
import { InternalError } from "../../errors.ts";
import { type FunctionBuilder, type Local, ModuleBuilder, ValType } from "./emitter.ts";

const { i32, f32 } = ValType;

/** Whether every node of `e` has a float32 WebAssembly form here (transcendental primitives do not yet). */
export function wasmCompilable(e: Expr): boolean {
  switch (e.kind) {
    case "input":
    case "param":
    case "const":
      return true;
    case "unary":
      return ["neg", "abs", "sqrt", "floor", "ceil", "round", "isnan", "nonzero"].includes(e.op) && wasmCompilable(e.x);
    case "binary":
      return e.op !== "pow" && wasmCompilable(e.a) && wasmCompilable(e.b);
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

interface Leaves {
  inputs: readonly Local[];
  params: readonly Local[];
}

function emitValue(f: FunctionBuilder, e: Expr, leaf: Leaves): void {
  switch (e.kind) {
    case "input": f.get(leaf.inputs[e.index]!); return;
    case "param": f.get(leaf.params[e.index]!); return;
    case "const": f.f32Const(e.value); return;
    case "unary": {
      const x = () => emitValue(f, e.x, leaf);
      switch (e.op) {
        case "neg": f.f32Neg(x); return;
        case "abs": f.f32Abs(x); return;
        case "sqrt": f.f32Sqrt(x); return;
        case "floor": f.f32Floor(x); return;
        case "ceil": f.f32Ceil(x); return;
        case "round": f.f32Nearest(x); return;
        case "isnan": {
          const t = f.local(f32);
          f.f32ConvertI32S(() => f.f32Ne(() => f.tee(t, x), t));
          return;
        }
        case "nonzero": f.f32ConvertI32S(() => emitCondition(f, e.x, leaf)); return;
        default: throw new InternalError(`fused: primitive ${e.op} has no WebAssembly form (wasmCompilable should have said so)`);
      }
    }
    case "binary": {
      if (PRIM_COMPARISONS.has(e.op)) {
        f.f32ConvertI32S(() => emitCondition(f, e, leaf));
        return;
      }
      const a = () => emitValue(f, e.a, leaf), b = () => emitValue(f, e.b, leaf);
      switch (e.op) {
        case "add": f.f32Add(a, b); return;
        case "sub": f.f32Sub(a, b); return;
        case "mul": f.f32Mul(a, b); return;
        case "div": f.f32Div(a, b); return;
        // f32.max and f32.min propagate NaN, as PyTorch's maximum and minimum.
        case "max": f.f32Max(a, b); return;
        case "min": f.f32Min(a, b); return;
        default: throw new InternalError(`fused: primitive ${e.op} has no WebAssembly form (wasmCompilable should have said so)`);
      }
    }
    case "select":
      f.select(() => emitValue(f, e.a, leaf), () => emitValue(f, e.b, leaf), () => emitCondition(f, e.cond, leaf));
      return;
  }
}

/** The module bytes of `fused` for `outputs` over `inputs` inputs and `params` parameters. */
export function buildExprModule(
  outputs: readonly Expr[],
  inputs: number,
  params: number,
  memory: { shared: boolean; maximumPages: number },
): Uint8Array<ArrayBuffer> {
  const mb = new ModuleBuilder();
  mb.importMemory({ module: "env", field: "memory", initialPages: 1, maximumPages: memory.maximumPages, shared: memory.shared });
  const signature = [...Array(2 * inputs + outputs.length + 1).fill(i32), ...Array(params).fill(f32)];
  const f = mb.func("fused", signature);
  const ptr = (k: number) => f.params[2 * k]!, step = (k: number) => f.params[2 * k + 1]!;
  const out = (j: number) => f.params[2 * inputs + j]!;
  const n = f.params[2 * inputs + outputs.length]!;
  const leaves: Leaves = {
    inputs: Array.from({ length: inputs }, () => f.local(f32)),
    params: Array.from({ length: params }, (_, p) => f.params[2 * inputs + outputs.length + 1 + p]!),
  };
  const results = outputs.map(() => f.local(f32));
  f.if(() => f.i32LtS(n, 1), () => f.return());
  f.doWhileDecrement(n, () => {
    for (let k = 0; k < inputs; k++) {
      f.set(leaves.inputs[k]!, () => f.f32Load(0, ptr(k)));
      f.inc(ptr(k), step(k));
    }
    // Every output is computed before any is stored: an output may be written over one of the inputs.
    outputs.forEach((e, j) => f.set(results[j]!, () => emitValue(f, e, leaves)));
    outputs.forEach((_, j) => {
      f.f32Store(0, out(j), results[j]!);
      f.inc(out(j), 4);
    });
  });
  return mb.build();
}

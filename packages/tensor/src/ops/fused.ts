// One elementwise pass for a chain of ops: the backend's fused kernel where it has one, else the same
// expressions evaluated op by op with the ordinary ops, so results never depend on whether fusion ran.
import type { FusedProgram } from "../backend.ts";
import { type DType, isFloat } from "../dtype.ts";
import { DTypeError, fmtShape, ValueError } from "../errors.ts";
import { primBinary, primUnary } from "../expr/evaluate.ts";
import { arity, type Expr, exprKey, type PrimBinary } from "../expr/ir.ts";
import { NDArray } from "../ndarray.ts";
import { broadcastShapes } from "../shape.ts";
import { full } from "./creation.ts";
import { binaryOp, unaryOp, where } from "./elementwise.ts";
import { broadcastTo, sameDevice } from "./operands.ts";

/** Programs by key text: equal expressions share one program, and so the backend's compiled kernel. */
const programs = new Map<string, FusedProgram>();
/**
 * The same programs by the identity of the `outputs` array, per dtype. Callers pass module-level constant arrays
 * on every step, and building the key text was about a quarter of a small fused call; an array seen for the
 * first time (or one built per call) still finds its program through the key text.
 */
const programsByOutputs = new WeakMap<readonly Expr[], Map<DType, FusedProgram>>();

/** Primitive binary ops by the op table's name for them. */
const BINARY_NAME: Record<PrimBinary, Parameters<typeof binaryOp>[0]> = {
  add: "add", sub: "sub", mul: "mul", div: "div", pow: "pow", max: "maximum", min: "minimum",
  eq: "eq", ne: "ne", lt: "lt", le: "le", gt: "gt", ge: "ge", and: "logicalAnd", or: "logicalOr",
};

/**
 * Evaluates each expression of `outputs` for every element of the broadcast shape of `inputs` in one pass, and
 * returns one new array per output. `params` are the scalars `param(i)` reads: unlike constants they may change
 * between calls without a new kernel. Inputs must share one float dtype, the result's.
 */
export function fused(outputs: readonly Expr[], inputs: readonly NDArray[], params: readonly number[] = []): NDArray[] {
  const need = arity(outputs);
  if (inputs.length < need.inputs || params.length < need.params || inputs.length === 0) {
    throw new ValueError(
      `fused: the expressions read ${need.inputs} inputs and ${need.params} parameters (at least one input); got ${inputs.length} inputs and ${params.length} parameters`,
    );
  }
  const dtype = inputs[0]!.dtype;
  for (const x of inputs) {
    if (x.dtype !== dtype || !isFloat(dtype)) {
      throw new DTypeError(`fused: every input must have one float dtype, expected ${isFloat(dtype) ? dtype : "float32 or float64"}, found ${x.dtype} ${fmtShape(x.shape)}`);
    }
  }
  sameDevice("fused", ...inputs);
  const shape = broadcastShapes("fused", ...inputs.map((x) => x.shape));
  const backend = inputs[0]!.backend;
  if (backend.fused) {
    const program = programFor(outputs, dtype);
    const views = inputs.map((x) => broadcastTo(x, shape));
    try {
      const storages = backend.fused(program, views, shape, params);
      if (storages) return storages.map((s) => new NDArray(s, shape));
    } finally {
      for (let i = 0; i < views.length; i++) if (views[i] !== inputs[i]) views[i]!.dispose();
    }
  }
  return outputs.map((e) => opByOp(e, inputs, params, shape));
}

function programFor(outputs: readonly Expr[], dtype: DType): FusedProgram {
  let byDtype = programsByOutputs.get(outputs);
  let program = byDtype?.get(dtype);
  if (program) return program;
  const key = `${dtype}|${outputs.map(exprKey).join(";")}`;
  program = programs.get(key);
  if (!program) programs.set(key, (program = { outputs, dtype, key }));
  if (!byDtype) programsByOutputs.set(outputs, (byDtype = new Map()));
  byDtype.set(dtype, program);
  return program;
}

/** `e` computed with the ordinary ops: the fallback, and the meaning fused kernels are tested against. */
export function opByOp(e: Expr, inputs: readonly NDArray[], params: readonly number[], shape: readonly number[]): NDArray {
  const dtype = inputs[0]!.dtype;
  const temporaries: NDArray[] = [];
  const round = (v: number) => (dtype === "float32" ? Math.fround(v) : v);
  const made = (x: NDArray) => (temporaries.push(x), x);
  const go = (n: Expr): NDArray | number => {
    switch (n.kind) {
      case "input": return inputs[n.index]!;
      case "param": return round(params[n.index]!);
      case "const": return round(n.value);
      case "unary": {
        const x = go(n.x);
        if (typeof x === "number") return round(primUnary(n.op, x));
        if (n.op === "isnan") return made(made(binaryOp("ne", x, x)).cast(dtype));
        if (n.op === "nonzero") return made(made(binaryOp("ne", x, 0)).cast(dtype));
        return made(unaryOp(n.op, x));
      }
      case "binary": {
        const a = go(n.a), b = go(n.b);
        if (typeof a === "number" && typeof b === "number") return round(primBinary(n.op, a, b));
        const out = made(binaryOp(BINARY_NAME[n.op], a, b));
        return out.dtype === dtype ? out : made(out.cast(dtype));
      }
      case "select": {
        const c = go(n.cond), a = go(n.a), b = go(n.b);
        if (typeof c === "number") return c !== 0 ? a : b;
        const cond = made(binaryOp("ne", c, 0));
        // Two JS numbers would pick where's default dtype; a 0-d array of the program's dtype keeps it.
        const typed = (v: NDArray | number) => (typeof v === "number" ? made(full([], v, { dtype, device: c.device })) : v);
        return made(where(cond, typed(a), typed(b)));
      }
    }
  };
  try {
    const r = go(e);
    if (typeof r === "number") return full(shape, r, { dtype, device: inputs[0]!.device });
    // A new contiguous array of the full shape, never an input itself or a view of one.
    const at = temporaries.indexOf(r);
    if (at >= 0 && r.isContiguous() && r.shape.length === shape.length && r.shape.every((d, i) => d === shape[i])) {
      temporaries.splice(at, 1);
      return r;
    }
    return made(r.expand(shape)).clone();
  } finally {
    for (const t of temporaries) if (!t.isDisposed) t.dispose();
  }
}

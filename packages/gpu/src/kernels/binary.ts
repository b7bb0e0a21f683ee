import type { BinaryOp, DType } from "@backprop/tensor";
import { binaryDef, BOOL_BINARY_OPS } from "@backprop/tensor";
import { renderCondition, renderConditionI32, renderWgsl, renderWgslI32 } from "./expr_wgsl.ts";
import { entry1d, storageDecls } from "../bindings.ts";
import type { KernelSpec } from "../runtime.ts";
import { elementwiseOperands } from "../strided.ts";
import { convert, CONVERT_WGSL, wgslType } from "../wgsl_types.ts";
import { MATH_WGSL } from "./math.ts";

/** WGSL of `op` on floats `a`, `b`, rendered from the op table's expression; comparisons give a WGSL bool. */
function floatExpr(op: BinaryOp): string {
  const leaves = { input: (i: number) => (i === 0 ? "a" : "b"), param: () => "0.0" };
  const def = binaryDef(op);
  return def.bool ? renderCondition(def.expr, leaves) : renderWgsl(def.expr, leaves);
}

/** WGSL of `op` on int32 `a`, `b` (bool operands load as 0/1), rendered from the same expression. */
function intExpr(op: BinaryOp): string {
  const leaves = { input: (i: number) => (i === 0 ? "a" : "b"), param: () => "0i" };
  const def = binaryDef(op);
  return def.bool ? renderConditionI32(def.expr, leaves) : renderWgslI32(def.expr, leaves);
}

/**
 * `op` on two strided views broadcast to one shape, into a contiguous output. Operands are computed in float32
 * when either is float, else in int32 (bool operands count as 0/1); comparisons write bool. An operand that is a
 * pending constant (`constA`/`constB`) is read from the parameter block instead of a buffer.
 */
export function binaryKernel(
  op: BinaryOp,
  aDtype: DType,
  bDtype: DType,
  outDtype: DType,
  rank: number,
  constA: boolean,
  constB: boolean,
): KernelSpec {
  const ta = wgslType(aDtype), tb = wgslType(bDtype), tout = wgslType(outDtype);
  const compute: DType = aDtype === "float32" || bDtype === "float32" ? "float32" : "int32";
  const operands = elementwiseOperands([["a_", ta, constA], ["b_", tb, constB]], rank);
  return {
    key: `binary:${op}:${aDtype}:${bDtype}:${outDtype}:${rank}:${constA ? "c" : "v"}${constB ? "c" : "v"}`,
    inputs: operands.bindings.length,
    outputs: 1,
    source: () => {
      const expr = compute === "float32" ? floatExpr(op) : intExpr(op);
      const result = BOOL_BINARY_OPS.has(op) ? `select(0u, 1u, ${expr})` : convert(expr, compute, outDtype);
      const store = BOOL_BINARY_OPS.has(op) ? convert(result, "bool", outDtype) : result;
      return `${MATH_WGSL}${CONVERT_WGSL}
${storageDecls(operands.bindings, [["out", `array<${tout}>`]])}
${entry1d(256)}
  if (i >= pu(0u)) { return; }
  ${operands.offsets}
  let a = ${convert(operands.loads[0]!, aDtype, compute)};
  let b = ${convert(operands.loads[1]!, bDtype, compute)};
  out[i] = ${store};
}`;
    },
  };
}

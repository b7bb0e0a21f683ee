import type { BinaryOp, DType } from "@backprop/tensor";
import { binaryDef, BOOL_BINARY_OPS } from "@backprop/tensor";
import { renderCondition, renderWgsl } from "./expr_wgsl.ts";
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

function intExpr(op: BinaryOp): string {
  switch (op) {
    case "add": return "a + b";
    case "sub": return "a - b";
    case "mul": return "a * b";
    // Integer division truncates (the tensor ops send true division to float32); x / 0 gives 0 as on the CPU.
    case "div": return "select(a / b, 0i, b == 0i)";
    case "pow": return "powi_(a, b)";
    case "maximum": return "max(a, b)";
    case "minimum": return "min(a, b)";
    case "eq": return "a == b";
    case "ne": return "a != b";
    case "lt": return "a < b";
    case "le": return "a <= b";
    case "gt": return "a > b";
    case "ge": return "a >= b";
    case "logicalAnd": return "a != 0i && b != 0i";
    case "logicalOr": return "a != 0i || b != 0i";
  }
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

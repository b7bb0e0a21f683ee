import type { DType, UnaryOp } from "@backprop/tensor";
import { DTypeError, unaryDef } from "@backprop/tensor";
import { renderCondition, renderConditionI32, renderWgsl, renderWgslI32 } from "./expr_wgsl.ts";
import { entry1d, storageDecls } from "../bindings.ts";
import type { KernelSpec } from "../runtime.ts";
import { stridedOffsets } from "../strided.ts";
import { CONVERT_WGSL, wgslType } from "../wgsl_types.ts";
import { MATH_WGSL } from "./math.ts";

/** WGSL of `op` on a float `x`, rendered from the op table's expression; ELU's alpha is parameter word ALPHA. */
function floatExpr(op: UnaryOp): string {
  const leaves = { input: () => "x", param: () => "pf(ALPHA)" };
  const def = unaryDef(op);
  // A bool result is stored as u32 0/1.
  return def.bool ? `select(0u, 1u, ${renderCondition(def.expr, leaves)})` : renderWgsl(def.expr, leaves);
}

/** WGSL of `op` on an int32 `x` (bool inputs load as 0/1), rendered from the same expression. */
function intExpr(op: UnaryOp): string {
  const def = unaryDef(op);
  if (def.ints !== "keep") {
    throw new DTypeError(`webgpu.unary: ${op} is not defined on int32 (the tensor ops compute it in float32)`);
  }
  const leaves = { input: () => "x", param: () => "0i" };
  return def.bool ? `select(0u, 1u, ${renderConditionI32(def.expr, leaves)})` : renderWgslI32(def.expr, leaves);
}

/** Elementwise `op` over a strided view of rank `rank`, into a contiguous output. */
export function unaryKernel(op: UnaryOp, inDtype: DType, outDtype: DType, rank: number): KernelSpec {
  const tin = wgslType(inDtype), tout = wgslType(outDtype);
  return {
    key: `unary:${op}:${inDtype}:${outDtype}:${rank}`,
    inputs: 1,
    outputs: 1,
    source: () => {
      // bool inputs only reach logicalNot, integer ops see them as int32 0/1.
      const load = tin === "u32" ? "i32(x_[o0])" : "x_[o0]";
      const expr = tin === "f32" ? floatExpr(op) : intExpr(op);
      const alphaWord = 1 + rank + (rank + 1);
      return `${MATH_WGSL}${CONVERT_WGSL}
const ALPHA = ${alphaWord}u;
${storageDecls([["x_", `array<${tin}>`]], [["out", `array<${tout}>`]])}
${entry1d(256)}
  if (i >= pu(0u)) { return; }
  ${stridedOffsets(rank, 1)}
  let x = ${load};
  out[i] = ${expr};
}`;
    },
  };
}

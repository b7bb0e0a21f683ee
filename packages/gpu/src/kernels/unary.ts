import type { DType, UnaryOp } from "@backprop/tensor";
import { DTypeError } from "@backprop/tensor";
import { entry1d, storageDecls } from "../bindings.ts";
import type { KernelSpec } from "../runtime.ts";
import { stridedOffsets } from "../strided.ts";
import { CONVERT_WGSL, wgslType } from "../wgsl_types.ts";
import { MATH_WGSL } from "./math.ts";

/**
 * WGSL of `op` on a float `x`; `alpha` is ELU's parameter. WGSL lets a compiler assume no NaN reaches a
 * comparison, so where a comparison alone would decide a NaN's result, `isnan_` (a bit test) decides it.
 */
function floatExpr(op: UnaryOp): string {
  switch (op) {
    case "neg": return "-x";
    case "abs": return "abs(x)";
    case "sign": return "select(select(select(x, -1.0, x < 0.0), 1.0, x > 0.0), x, isnan_(x))";
    case "exp": return "exp(x)";
    case "log": return "log_(x)";
    case "log1p": return "log1p_(x)";
    case "expm1": return "expm1_(x)";
    case "sqrt": return "sqrt_(x)";
    case "rsqrt": return "1.0 / sqrt_(x)";
    case "square": return "x * x";
    case "reciprocal": return "1.0 / x";
    case "sin": return "sin(x)";
    case "cos": return "cos(x)";
    case "tanh": return "tanh_(x)";
    case "sigmoid": return "sigmoid_(x)";
    case "relu": return "select(0.0, x, x > 0.0 || isnan_(x))";
    case "elu": return "select(pf(ALPHA) * expm1_(x), x, x > 0.0)";
    case "floor": return "floor(x)";
    case "ceil": return "ceil(x)";
    // WGSL's round already rounds half to even, as the CPU backend does.
    case "round": return "round(x)";
    case "logicalNot": return "select(0u, 1u, x == 0.0 && !isnan_(x))";
  }
}

function intExpr(op: UnaryOp): string {
  switch (op) {
    case "neg": return "-x";
    case "abs": return "abs(x)";
    case "sign": return "sign(x)";
    case "square": return "x * x";
    case "relu": return "max(x, 0i)";
    case "floor":
    case "ceil":
    case "round": return "x";
    case "logicalNot": return "select(0u, 1u, x == 0i)";
    default:
      throw new DTypeError(`webgpu.unary: ${op} is not defined on int32 (the tensor ops compute it in float32)`);
  }
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

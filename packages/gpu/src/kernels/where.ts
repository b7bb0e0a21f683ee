import type { DType } from "@backprop/tensor";
import { entry1d, storageDecls } from "../bindings.ts";
import type { KernelSpec } from "../runtime.ts";
import { elementwiseOperands } from "../strided.ts";
import { convert, CONVERT_WGSL, wgslType } from "../wgsl_types.ts";

/** `cond ? a : b` over three strided views broadcast to one shape (pending constants read from the parameters). */
export function whereKernel(
  condDtype: DType,
  aDtype: DType,
  bDtype: DType,
  outDtype: DType,
  rank: number,
  constant: readonly [boolean, boolean, boolean],
): KernelSpec {
  const tc = wgslType(condDtype), ta = wgslType(aDtype), tb = wgslType(bDtype), tout = wgslType(outDtype);
  const operands = elementwiseOperands([["c_", tc, constant[0]], ["a_", ta, constant[1]], ["b_", tb, constant[2]]], rank);
  return {
    key: `where:${condDtype}:${aDtype}:${bDtype}:${outDtype}:${rank}:${constant.map((c) => (c ? "c" : "v")).join("")}`,
    inputs: operands.bindings.length,
    outputs: 1,
    source: () => `${CONVERT_WGSL}
${storageDecls(operands.bindings, [["out", `array<${tout}>`]])}
${entry1d(256)}
  if (i >= pu(0u)) { return; }
  ${operands.offsets}
  if (${convert(operands.loads[0]!, condDtype, "bool")} != 0u) {
    out[i] = ${convert(operands.loads[1]!, aDtype, outDtype)};
  } else {
    out[i] = ${convert(operands.loads[2]!, bDtype, outDtype)};
  }
}`,
  };
}

import type { DType } from "@backprop/tensor";
import { entry1d, storageDecls } from "../bindings.ts";
import type { KernelSpec } from "../runtime.ts";
import { stridedOffsets } from "../strided.ts";
import { convert, CONVERT_WGSL, wgslType } from "../wgsl_types.ts";

/** `cond ? a : b` over three strided views broadcast to one shape. */
export function whereKernel(condDtype: DType, aDtype: DType, bDtype: DType, outDtype: DType, rank: number): KernelSpec {
  const tc = wgslType(condDtype), ta = wgslType(aDtype), tb = wgslType(bDtype), tout = wgslType(outDtype);
  return {
    key: `where:${condDtype}:${aDtype}:${bDtype}:${outDtype}:${rank}`,
    inputs: 3,
    outputs: 1,
    source: () => `${CONVERT_WGSL}
${storageDecls([["c_", `array<${tc}>`], ["a_", `array<${ta}>`], ["b_", `array<${tb}>`]], [["out", `array<${tout}>`]])}
${entry1d(256)}
  if (i >= pu(0u)) { return; }
  ${stridedOffsets(rank, 3)}
  if (${convert("c_[o0]", condDtype, "bool")} != 0u) {
    out[i] = ${convert("a_[o1]", aDtype, outDtype)};
  } else {
    out[i] = ${convert("b_[o2]", bDtype, outDtype)};
  }
}`,
  };
}

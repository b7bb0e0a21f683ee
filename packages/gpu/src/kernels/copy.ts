import type { DType } from "@backprop/tensor";
import { entry1d, storageDecls } from "../bindings.ts";
import type { KernelSpec } from "../runtime.ts";
import { stridedOffsets } from "../strided.ts";
import { convert, CONVERT_WGSL, wgslType } from "../wgsl_types.ts";

/** Strided copy with dtype conversion: view 0 is the source, view 1 the destination window. */
export function copyKernel(srcDtype: DType, dstDtype: DType, rank: number): KernelSpec {
  const ts = wgslType(srcDtype), td = wgslType(dstDtype);
  return {
    key: `copy:${srcDtype}:${dstDtype}:${rank}`,
    inputs: 1,
    outputs: 1,
    source: () => `${CONVERT_WGSL}
${storageDecls([["src", `array<${ts}>`]], [["dst", `array<${td}>`]])}
${entry1d(256)}
  if (i >= pu(0u)) { return; }
  ${stridedOffsets(rank, 2)}
  dst[o1] = ${convert("src[o0]", srcDtype, dstDtype)};
}`,
  };
}

/** Fills the first `n` words with one bit pattern (any dtype: the caller encodes the value). */
export const fillKernel: KernelSpec = {
  key: "fill",
  inputs: 0,
  outputs: 1,
  source: () => `${storageDecls([], [["out", "array<u32>"]])}
${entry1d(256)}
  if (i >= pu(0u)) { return; }
  out[i] = pu(1u);
}`,
};

import type { FusedProgram } from "@backprop/tensor";
import { entry1d, storageDecls } from "../bindings.ts";
import type { KernelSpec } from "../runtime.ts";
import { stridedOffsets, stridedWords } from "../strided.ts";
import { CONVERT_WGSL } from "../wgsl_types.ts";
import { MATH_WGSL } from "./math.ts";
import { OPAQUE_USE_WGSL, renderWgsl } from "./expr_wgsl.ts";

/**
 * One pipeline for a fused elementwise program: `inputs` strided float32 views of rank `rank` (broadcast by
 * stride 0), `params` float32 scalars after the strided words of the parameter block, one contiguous output per
 * expression. Each input is read once into a `let`; the expressions are rendered from the IR.
 */
export function fusedKernel(program: FusedProgram, rank: number, inputs: number, params: number): KernelSpec {
  const outputs = program.outputs.length;
  return {
    key: `fused:${program.key}:${rank}:${inputs}:${params}`,
    inputs,
    outputs,
    source: () => {
      const firstParam = stridedWords(rank, inputs);
      // Each use of an input is made distinct (`opv_`), so x − x or a subexpression written twice is not folded.
      let use = 0;
      const leaves = { input: (k: number) => `opv_(x${k}, ${++use}u)`, param: (p: number) => `pf(${firstParam + p}u)` };
      const names = Array.from({ length: inputs }, (_, k) => [`x${k}_`, "array<f32>"] as [string, string]);
      const outs = Array.from({ length: outputs }, (_, j) => [`out${j}`, "array<f32>"] as [string, string]);
      const loads = names.map((_, k) => `let x${k} = x${k}_[o${k}];`).join("\n  ");
      const stores = program.outputs.map((e, j) => `out${j}[i] = ${renderWgsl(e, leaves)};`).join("\n  ");
      return `${MATH_WGSL}${CONVERT_WGSL}${OPAQUE_USE_WGSL}
${storageDecls(names, outs)}
${entry1d(256)}
  if (i >= pu(0u)) { return; }
  ${stridedOffsets(rank, inputs)}
  ${loads}
  ${stores}
}`;
    },
  };
}

// Deno runs the CPU backend with relaxed-SIMD kernels (vitest runs on Node, without them): the kernel cases
// and the whole conformance suite once more there.
//   deno test -A packages/tensor/test/cpu_deno_test.ts
import { conformanceCases } from "../src/testing/mod.ts";
import { stopWasmWorkers, wasmSimdInfo } from "../src/cpu/wasm/mod.ts";
import { cpuKernelCases } from "./cpu_kernel_cases.ts";
import { gemmSplitCases } from "./gemm_split_cases.ts";

declare const Deno: {
  test(name: string, fn: () => void | Promise<void>): void;
};

Deno.test("relaxed SIMD is in use", () => {
  if (!wasmSimdInfo().relaxed) {
    throw new Error("expected relaxed-SIMD kernels under Deno");
  }
});
for (const c of cpuKernelCases()) Deno.test(`kernels: ${c.name}`, c.run);
for (const c of gemmSplitCases()) Deno.test(c.name, c.run);
for (const c of conformanceCases({ device: "cpu", numRuns: 30 })) {
  Deno.test(`conformance: ${c.name}`, c.run);
}
Deno.test("stop workers", () => stopWasmWorkers());

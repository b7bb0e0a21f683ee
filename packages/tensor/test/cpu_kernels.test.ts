// The CPU backend's WebAssembly kernels against its TypeScript loops (see cpu_kernel_cases.ts). Under
// vitest this is Node: the plain-SIMD kernels, unless Node runs with --experimental-wasm-relaxed-simd;
// `deno test -A packages/tensor/test/cpu_deno_test.ts` runs the same cases with relaxed SIMD.
import { afterAll, describe, test } from "vitest";
import { stopWasmWorkers } from "../src/cpu/wasm/mod.ts";
import { cpuKernelCases } from "./cpu_kernel_cases.ts";

afterAll(() => stopWasmWorkers());

describe("cpu: WebAssembly kernels against the TypeScript loops", () => {
  for (const c of cpuKernelCases()) test(c.name, c.run, 60_000);
});

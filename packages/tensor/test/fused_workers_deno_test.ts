// The fused kernel over the worker pool under Deno (relaxed SIMD, node:worker_threads workers).
//   deno test -A packages/tensor/test/fused_workers_deno_test.ts
import { stopWasmWorkers } from "../src/cpu/wasm/mod.ts";
import { fusedWorkerCases } from "./fused_worker_cases.ts";

declare const Deno: {
  test(name: string, fn: () => void | Promise<void>): void;
};

for (const c of fusedWorkerCases()) Deno.test(c.name, c.run);
Deno.test("stop workers", () => stopWasmWorkers());

/**
 * The tensor conformance suite on "webgpu" once more with `backend.deferral = false`: every elementwise op and
 * copy then runs as its own kernel when called, so the op-by-op kernels stay checked on their own, not only
 * through the deferred expressions that replace them by default.
 */
import { conformanceCases } from "@backprop/tensor/testing";
import { gpu, noGpu } from "./setup.ts";

if (noGpu) {
  Deno.test({ name: "conformance on webgpu without deferral", ignore: true, fn: () => {} });
} else {
  const backend = gpu!.backend;
  for (const c of conformanceCases({ device: "webgpu", numRuns: 10 })) {
    Deno.test({
      name: `conformance on webgpu without deferral: ${c.name}`,
      fn: async () => {
        backend.deferral = false;
        try {
          await c.run();
          if (backend.pendingStorages !== 0) throw new Error(`${backend.pendingStorages} storages were deferred with deferral off`);
        } finally {
          backend.deferral = true;
        }
      },
    });
  }
}

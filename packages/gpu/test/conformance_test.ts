/** The tensor conformance suite, unchanged, on device "webgpu" (float32, int32, bool; float64 is not offered). */
import { conformanceCases } from "@backprop/tensor/testing";
import { noGpu } from "./setup.ts";

if (noGpu) {
  Deno.test({ name: "conformance on webgpu", ignore: true, fn: () => {} });
} else {
  for (const c of conformanceCases({ device: "webgpu", numRuns: 10 })) {
    Deno.test({ name: `conformance on webgpu: ${c.name}`, fn: c.run });
  }
}

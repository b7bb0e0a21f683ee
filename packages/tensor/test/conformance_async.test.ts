import { describe, test } from "vitest";
import { CpuBackend, registerBackend, type Storage, type TypedArray } from "../src/mod.ts";
import { conformanceCases } from "../src/testing/mod.ts";

/**
 * A device shaped like the WebGPU one: another name, reads only asynchronously, float32 only. The CPU kernels do
 * the work; what is tested is that the suite and the library never assume a synchronous CPU device (transfers,
 * mixed-device errors and reads all go through the async paths).
 */
class AsyncOnlyBackend extends CpuBackend {
  override readonly name = "async-cpu" as "cpu";
  constructor() {
    super();
    Object.defineProperty(this, "readSync", { value: undefined });
  }
  override read(storage: Storage): Promise<TypedArray> {
    // A later microtask, like a device read-back.
    return Promise.resolve().then(() => CpuBackend.prototype.readSync.call(this, storage));
  }
}
registerBackend(new AsyncOnlyBackend());

describe("conformance: a float32-only device with asynchronous reads", () => {
  for (const c of conformanceCases({ device: "async-cpu", float64: false })) test(c.name, c.run);
});

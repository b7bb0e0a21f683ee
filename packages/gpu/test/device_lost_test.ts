/**
 * Device loss, on a second device of its own (the shared one stays usable for the other tests): after the device
 * is gone, every operation and read throws `GpuDeviceLostError` naming the reason, and releasing memory still
 * works (disposal must never throw).
 */
import { GpuDeviceLostError, openWebGPU } from "../src/mod.ts";
import { noGpu } from "./setup.ts";

async function rejectsLost(what: string, f: () => unknown): Promise<void> {
  try {
    await f();
  } catch (e) {
    if (e instanceof GpuDeviceLostError && /device was lost \(destroyed/.test(e.message)) return;
    throw new Error(`${what}: expected GpuDeviceLostError, got ${e}`);
  }
  throw new Error(`${what}: expected GpuDeviceLostError, nothing was thrown`);
}

Deno.test({
  name: "device loss: every later call throws GpuDeviceLostError, release still works",
  ignore: noGpu,
  fn: async () => {
    const { backend } = await openWebGPU();
    const a = backend.upload([1, 2, 3], "float32");
    const pending = backend.read(a);
    backend.destroy();
    await pending.catch(() => {}); // may resolve or fail, depending on how far the copy got
    await rejectsLost("upload", () => backend.upload([1], "float32"));
    await rejectsLost("alloc", () => backend.alloc("float32", 4));
    await rejectsLost("read", () => backend.read(a));
    const view = { storage: a, shape: [3], strides: [1], offset: 0 };
    await rejectsLost("unary", () => backend.unary("exp", view, "float32"));
    backend.release(a);
    if (backend.memory().storages !== 0) throw new Error("the released storage is still counted");
  },
});

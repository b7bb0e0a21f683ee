import type { DeviceFlag } from "../flags.ts";

/**
 * Resolves `--device`: "webgpu" must work or the run stops with the adapter's message; "auto" takes WebGPU
 * when an adapter exists and the CPU otherwise. Returns the device name and a sentence saying what was picked.
 */
export async function resolveDevice(flag: DeviceFlag): Promise<{ device: string; note: string }> {
  if (flag === "cpu") return { device: "cpu", note: "device: cpu" };
  try {
    const gpu = await import("@backprop/gpu");
    const info = await gpu.initWebGPU();
    const a = info.adapter;
    return { device: "webgpu", note: `device: webgpu (${a.description || a.device || a.vendor || "adapter"})` };
  } catch (e) {
    if (flag === "webgpu") throw e;
    return { device: "cpu", note: `device: cpu (no WebGPU: ${(e as Error).message})` };
  }
}

/**
 * Shared by the Deno GPU tests: opens the WebGPU device once. Without an adapter every test is skipped and the
 * reason printed (CI machines without Mesa's Vulkan driver, runtimes without WebGPU).
 */
import { GpuUnavailableError, initWebGPU, type WebGPUInfo } from "../src/mod.ts";

async function open(): Promise<WebGPUInfo | null> {
  try {
    return await initWebGPU();
  } catch (e) {
    if (e instanceof GpuUnavailableError) {
      console.log(`skipping the WebGPU tests: ${e.message}`);
      return null;
    }
    throw e;
  }
}

export const gpu: WebGPUInfo | null = await open();
/** Pass as `ignore` to Deno.test. */
export const noGpu: boolean = gpu === null;

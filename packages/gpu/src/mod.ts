/**
 * @module
 * The WebGPU backend of `@backprop/tensor`: every primitive kernel in WGSL, so NDArray, autograd and nn run on
 * device `"webgpu"`. Reads are asynchronous (`await x.data()`); memory is freed deterministically by
 * `dispose`/`tidy` and reused through a buffer pool.
 *
 * @example
 * ```ts
 * import { initWebGPU } from "@backprop/gpu";
 * import { tensor } from "@backprop/tensor";
 * const { adapter } = await initWebGPU();
 * console.log(adapter.description);
 * const a = tensor([[1, 2], [3, 4]], { dtype: "float32", device: "webgpu" });
 * console.log(await a.matmul(a).data());
 * ```
 */
export { initWebGPU, openWebGPU } from "./init.ts";
export type { AdapterDescription, WebGPUInfo, WebGPUOptions } from "./init.ts";
export { WebGpuBackend } from "./backend.ts";
export type { GpuMemoryInfo } from "./backend.ts";
export type { DeviceLimits } from "./runtime.ts";
export type { PoolStats } from "./pool.ts";
export { diffStats } from "./stats.ts";
export type { GpuStats } from "./stats.ts";
export { GpuDeviceLostError, GpuLimitError, GpuUnavailableError, GpuValidationError } from "./errors.ts";

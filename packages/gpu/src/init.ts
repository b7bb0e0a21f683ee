import { registerBackend } from "@backprop/tensor";
import { WebGpuBackend } from "./backend.ts";
import { GpuUnavailableError } from "./errors.ts";
import { type DeviceLimits, GpuRuntime } from "./runtime.ts";

export interface WebGPUOptions {
  /** The WebGPU entry point: `navigator.gpu` by default; in Node pass the `webgpu` package's `create([])`. */
  gpu?: GPU;
  powerPreference?: GPUPowerPreference;
  forceFallbackAdapter?: boolean;
  /** Free buffer bytes the pool keeps for reuse before it destroys released buffers (default 1 GiB). */
  poolFreeBytes?: number;
}

/** What the adapter says about itself. */
export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
}

export interface WebGPUInfo {
  backend: WebGpuBackend;
  adapter: AdapterDescription;
  /** The limits the device was created with (the adapter's best for the ones this backend uses). */
  limits: DeviceLimits;
}

// Workgroup size every kernel uses (matmul tiles, reductions).
const THREADS = 256;

let current: WebGPUInfo | null = null;

/**
 * Opens a WebGPU device and registers it as device `"webgpu"`, so `tensor(…, { device: "webgpu" })` and
 * `x.toAsync("webgpu")` work. Returns the backend, the adapter's description and the device limits. Calling it
 * again returns the same device unless that one was lost.
 *
 * Throws `GpuUnavailableError` when the runtime has no WebGPU or no adapter, with the runtime's own message.
 */
export async function initWebGPU(options: WebGPUOptions = {}): Promise<WebGPUInfo> {
  if (current && !current.backend.runtime.lost) return current;
  const info = await openWebGPU(options);
  registerBackend(info.backend);
  current = info;
  return info;
}

/**
 * Opens a WebGPU device and its backend without registering it (tests, or a second device under another
 * name); `initWebGPU` is this plus `registerBackend`.
 */
export async function openWebGPU(options: WebGPUOptions = {}): Promise<WebGPUInfo> {
  const gpu = options.gpu ?? (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) {
    throw new GpuUnavailableError(
      "initWebGPU: this runtime has no WebGPU (navigator.gpu is undefined); in Node pass `{ gpu: create([]) }` " +
        "from the `webgpu` package, in Deno and browsers use a build with WebGPU enabled",
    );
  }
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({
      powerPreference: options.powerPreference,
      forceFallbackAdapter: options.forceFallbackAdapter,
    });
  } catch (e) {
    throw new GpuUnavailableError(`initWebGPU: requesting a GPU adapter failed: ${(e as Error)?.message ?? e}`);
  }
  if (!adapter) {
    throw new GpuUnavailableError(
      "initWebGPU: no WebGPU adapter is available (the runtime returned none: no GPU driver, or WebGPU is " +
        "disabled); on Linux without a GPU install Mesa's Vulkan driver (Debian: mesa-vulkan-drivers)",
    );
  }
  const a = adapter.limits;
  if (a.maxComputeInvocationsPerWorkgroup < THREADS || a.maxComputeWorkgroupSizeX < THREADS) {
    throw new GpuUnavailableError(
      `initWebGPU: the adapter allows ${a.maxComputeInvocationsPerWorkgroup} invocations per workgroup; ` +
        `this backend needs ${THREADS}`,
    );
  }
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      requiredLimits: {
        maxStorageBufferBindingSize: a.maxStorageBufferBindingSize,
        maxBufferSize: a.maxBufferSize,
        maxComputeInvocationsPerWorkgroup: THREADS,
        maxComputeWorkgroupSizeX: THREADS,
        maxComputeWorkgroupStorageSize: Math.min(a.maxComputeWorkgroupStorageSize, 32768),
      },
    });
  } catch (e) {
    throw new GpuUnavailableError(`initWebGPU: the adapter refused to create a device: ${(e as Error)?.message ?? e}`);
  }
  const d = device.limits;
  const limits: DeviceLimits = {
    maxStorageBufferBindingSize: d.maxStorageBufferBindingSize,
    maxBufferSize: d.maxBufferSize,
    maxComputeWorkgroupsPerDimension: d.maxComputeWorkgroupsPerDimension,
    maxComputeWorkgroupStorageSize: d.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: d.maxComputeInvocationsPerWorkgroup,
    minUniformBufferOffsetAlignment: d.minUniformBufferOffsetAlignment,
  };
  const runtime = new GpuRuntime(device, limits, options.poolFreeBytes ?? 2 ** 30);
  return { backend: new WebGpuBackend(runtime), adapter: await describe(adapter), limits };
}

async function describe(adapter: GPUAdapter): Promise<AdapterDescription> {
  type Info = Partial<AdapterDescription>;
  const withInfo = adapter as GPUAdapter & { info?: Info; requestAdapterInfo?: () => Promise<Info> };
  const info: Info = withInfo.info ?? (await withInfo.requestAdapterInfo?.()) ?? {};
  return {
    vendor: info.vendor ?? "",
    architecture: info.architecture ?? "",
    device: info.device ?? "",
    description: info.description ?? "",
    isFallbackAdapter: info.isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false,
  };
}

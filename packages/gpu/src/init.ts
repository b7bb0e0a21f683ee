import { registerBackend } from "@backprop/tensor";
import { WebGpuBackend } from "./backend.ts";
import { GpuUnavailableError } from "./errors.ts";
import type { DeviceLimits } from "./runtime.ts";

/** Options of `initWebGPU` / `openWebGPU`. */
export interface WebGPUOptions {
  /** The WebGPU entry point: `navigator.gpu` by default; in Node pass the `webgpu` package's `create([])`. */
  gpu?: GPU;
  /** Passed to `requestAdapter`: which GPU to prefer on machines with several. */
  powerPreference?: GPUPowerPreference;
  /** Passed to `requestAdapter`: ask for a software adapter. */
  forceFallbackAdapter?: boolean;
  /** Free buffer bytes the pool keeps for reuse before it destroys released buffers (default 1 GiB). */
  poolFreeBytes?: number;
}

/** What the adapter says about itself. */
export interface AdapterDescription {
  /** Vendor name or PCI id. */
  vendor: string;
  /** GPU family, where the runtime says. */
  architecture: string;
  /** Device name or PCI id. */
  device: string;
  /** Human-readable name of the adapter, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)". */
  description: string;
  /** True for software adapters. */
  isFallbackAdapter: boolean;
}

/** What `initWebGPU` opened. */
export interface WebGPUInfo {
  /** The backend, registered as device "webgpu" by `initWebGPU`. */
  backend: WebGpuBackend;
  /** The adapter's description. */
  adapter: AdapterDescription;
  /** The limits the device was created with (the adapter's best for the ones this backend uses). */
  limits: DeviceLimits;
}

// Workgroup size every kernel uses (matmul tiles, reductions).
const THREADS = 256;
/**
 * Storage buffers per kernel requested beyond WebGPU's default 8 where the adapter allows: a deferred
 * expression (a batch norm's backward pass: gradient, input, statistics, sums, γ, and the ReLU mask before it)
 * then runs as one kernel instead of two. 16 keeps bind group layouts small.
 */
const MAX_STORAGE_BUFFERS = 16;

let current: WebGPUInfo | null = null;

/**
 * Opens a WebGPU device and registers it as device `"webgpu"`, so `tensor(…, { device: "webgpu" })` and
 * `x.toAsync("webgpu")` work. Returns the backend, the adapter's description and the device limits. Calling it
 * again returns the same device unless that one was lost.
 *
 * Throws `GpuUnavailableError` when the runtime has no WebGPU or no adapter, with the runtime's own message.
 */
export async function initWebGPU(options: WebGPUOptions = {}): Promise<WebGPUInfo> {
  if (current && !current.backend.lost) return current;
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
        maxStorageBuffersPerShaderStage: Math.min(a.maxStorageBuffersPerShaderStage, MAX_STORAGE_BUFFERS),
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
    maxStorageBuffersPerShaderStage: d.maxStorageBuffersPerShaderStage,
  };
  const backend = new WebGpuBackend(device, limits, options.poolFreeBytes ?? 2 ** 30);
  return { backend, adapter: await describe(adapter), limits };
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

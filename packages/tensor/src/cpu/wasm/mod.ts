// WebAssembly SIMD kernels for the CPU backend: generated at run time, relaxed-SIMD fused multiply-add
// where the engine has it, plain SIMD otherwise, and a worker pool over shared memory for large products.
import {
  activeVariant,
  configuredThreads,
  runningWorkers,
  setRelaxed,
  setThreads,
  stopWorkers,
  wasmRuntime,
} from "./runtime.ts";

export {
  gemm,
  type GemmSplitPolicy,
  kSplitPoint,
  PARALLEL_MIN_MACS,
  setGemmKSplit,
  setGemmParallelPacking,
  setGemmShrinkSharedRowChunks,
  setGemmSplitPolicy,
} from "./gemm.ts";
export { WasmUnavailableError } from "./runtime.ts";
export { measurePeakGflops } from "./peak.ts";
export { type WasmFeatures, wasmFeatures } from "./features.ts";

/** The kernels' configuration, as wasmSimdInfo() reports it. */
export interface WasmSimdInfo {
  /** Relaxed-SIMD kernels are in use (available and not disabled). */
  readonly relaxed: boolean;
  /** The engine has relaxed SIMD (Node 20: only with --experimental-wasm-relaxed-simd). */
  readonly relaxedAvailable: boolean;
  /** Threads a large kernel may use, the caller included. */
  readonly threads: number;
  /** Worker threads started so far (the pool starts with the first kernel large enough to split). */
  readonly workers: number;
  /** The memory is shared, so workers can be used at all. */
  readonly sharedMemory: boolean;
  /** Register tile and blocking of GEMM (mr×nr tile, kc depth, unroll). */
  readonly gemmTiling: {
    mr: number;
    nr: number;
    kc: number;
    mc: number;
    nc: number;
    unroll: number;
  };
}

/** Which kernels run and on how many threads; compiles the kernels on first call. */
export function wasmSimdInfo(): WasmSimdInfo {
  const r = wasmRuntime();
  return {
    relaxed: activeVariant() === 1,
    relaxedAvailable: r.features.relaxed,
    threads: configuredThreads(),
    workers: runningWorkers(),
    sharedMemory: r.heap.shared,
    gemmTiling: { ...r.tiling },
  };
}

/** Threads (caller included) for large kernels; clamped to what the engine allows. Default: all cores. */
export function setNumThreads(n: number): void {
  setThreads(n);
}

/** Chooses relaxed-SIMD kernels (default where available) or the plain-SIMD ones. */
export function setRelaxedSimd(enabled: boolean): void {
  setRelaxed(enabled);
}

/** Stops the worker threads now; the next large kernel starts them again. */
export function stopWasmWorkers(): void {
  stopWorkers();
}

/** Bytes of kernel memory handed out (storages, staging and kernel scratch; for leak checks). */
export function wasmAllocatedBytes(): number {
  return wasmRuntime().heap.allocatedBytes;
}

// The CPU backend's settings a program may change — the thread count of large kernels and relaxed SIMD on or
// off — and what the engine offers them. Everything else about the kernels is chosen from the engine's features.
// Without WebAssembly SIMD every kernel is a single-threaded TypeScript loop, so these settings have nothing to
// change there: they are accepted and reported, not refused, so one program runs on every engine.
import { ValueError } from "../errors.ts";
import { wasmFeatures } from "./wasm/features.ts";
import { measurePeakGflops } from "./wasm/peak.ts";
import { activeVariant, configuredThreads, maxThreads, setRelaxed, setThreads } from "./wasm/runtime.ts";

/** What the CPU backend's float32 kernels run on, as `cpuKernelInfo()` reports it. */
export interface CpuKernelInfo {
  /** The engine has WebAssembly SIMD, so float32 products, convolutions and common elementwise ops run there. */
  readonly simd: boolean;
  /** Relaxed-SIMD kernels are in use (fused multiply-add: faster, last bits may differ between machines). */
  readonly relaxedSimd: boolean;
  /** The engine has relaxed SIMD (Node 20 only with `--experimental-wasm-relaxed-simd`). */
  readonly relaxedSimdAvailable: boolean;
  /** Memory can be shared with worker threads, which large kernels need to use more than one thread. */
  readonly sharedMemory: boolean;
  /** Threads a large kernel uses, the caller included. */
  readonly threads: number;
  /** The most threads `setNumThreads` can give: the cores, where workers can share memory and block; else 1. */
  readonly maxThreads: number;
}

/** The CPU kernels' configuration. Compiles the WebAssembly kernels on first call where the engine has SIMD. */
export function cpuKernelInfo(): CpuKernelInfo {
  const f = wasmFeatures();
  return {
    simd: f.simd,
    relaxedSimd: f.simd && activeVariant() === 1,
    relaxedSimdAvailable: f.relaxed,
    sharedMemory: f.sharedMemory,
    threads: getNumThreads(),
    maxThreads: f.simd ? maxThreads(f) : 1,
  };
}

/**
 * Threads (the caller included) that large CPU kernels split their work over; clamped to `maxThreads`.
 * Default: every core the engine reports. Like `torch.set_num_threads`.
 */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new ValueError(`setNumThreads: expected an integer ≥ 1, got ${n}`);
  if (wasmFeatures().simd) setThreads(n);
}

/** Threads large CPU kernels use, the caller included (1 where the engine has no WebAssembly SIMD). */
export function getNumThreads(): number {
  return wasmFeatures().simd ? configuredThreads() : 1;
}

/**
 * Uses relaxed-SIMD kernels (the default where the engine has them) or the plain-SIMD ones. Plain SIMD rounds
 * every multiply and every add; relaxed SIMD's multiply-add rounds once or twice depending on the hardware, so
 * its float32 results may differ in the last bits between machines.
 */
export function setRelaxedSimd(enabled: boolean): void {
  setRelaxed(enabled);
}

/**
 * GFLOP/s of a multiply-add loop without memory traffic on `threads` threads (at most `getNumThreads()`): the
 * ceiling the float32 kernels are measured against. On a busy machine it is the throughput actually available.
 * Throws `WasmUnavailableError` where the engine has no WebAssembly SIMD.
 */
export function measureCpuPeakGflops(threads = 1, iterations = 50_000_000): number {
  if (!Number.isInteger(threads) || threads < 1) {
    throw new ValueError(`measureCpuPeakGflops: threads must be an integer ≥ 1, got ${threads}`);
  }
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new ValueError(`measureCpuPeakGflops: iterations must be an integer ≥ 1, got ${iterations}`);
  }
  return measurePeakGflops(threads, iterations);
}

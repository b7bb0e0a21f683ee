// The process-wide (per thread of the caller) kernel state: one memory, the compiled modules, this
// thread's instances, per-thread GEMM scratch, and the worker pool. Created on first use so importing the
// package costs nothing.
import { WasmHeap } from "./heap.ts";
import { BackpropError, ValueError } from "../../errors.ts";
import { type WasmFeatures, wasmFeatures } from "./features.ts";
import {
  type GemmTiling,
  gemmTilingFor,
  gemmWorkFloats,
} from "./gemm_kernel.ts";
import { buildKernelModule, type KernelExports } from "./kernel_module.ts";
import { WorkerPool } from "./pool.ts";

/** Thrown where the engine cannot run the kernels (no WebAssembly SIMD). */
export class WasmUnavailableError extends BackpropError {
  /** `what` says which capability is missing. */
  constructor(what: string) {
    super(`WebAssembly kernels unavailable: ${what}`);
  }
}

export interface WasmRuntime {
  readonly features: WasmFeatures;
  readonly heap: WasmHeap;
  readonly tiling: GemmTiling;
  /** [plain, relaxed]; relaxed is undefined where the engine lacks relaxed SIMD. */
  readonly modules: readonly [
    WebAssembly.Module,
    WebAssembly.Module | undefined,
  ];
  readonly kernels: readonly [KernelExports, KernelExports | undefined];
}

interface Settings {
  /** Threads a kernel may use, the caller included. */
  threads: number;
  /** Use relaxed-SIMD kernels when the engine has them. */
  relaxed: boolean;
}

let runtime: WasmRuntime | undefined;
let pool: WorkerPool | undefined;
/** True after a failed pool start, so a missing capability is not retried on every call. */
let poolFailed = false;
let callerWork = 0;
/** GEMM scratch of each worker, kept across pool restarts. */
const workerScratch: number[] = [];
const settings: Settings = { threads: 0, relaxed: true };

function instantiate(
  module: WebAssembly.Module,
  memory: WebAssembly.Memory,
): KernelExports {
  return new WebAssembly.Instance(module, { env: { memory } })
    .exports as unknown as KernelExports;
}

/** The runtime, created on first call. Throws WasmUnavailableError where the engine lacks SIMD. */
export function wasmRuntime(): WasmRuntime {
  if (runtime) return runtime;
  const features = wasmFeatures();
  if (!features.simd) {
    throw new WasmUnavailableError("this engine has no WebAssembly SIMD");
  }
  const heap = new WasmHeap(features.sharedMemory);
  const tiling = gemmTilingFor(features.v8Major);
  const compile = (relaxed: boolean) =>
    new WebAssembly.Module(
      buildKernelModule({
        relaxed,
        shared: heap.shared,
        maximumPages: heap.maximumPages,
        tiling,
      }),
    );
  const plain = compile(false);
  const relaxed = features.relaxed ? compile(true) : undefined;
  runtime = {
    features,
    heap,
    tiling,
    modules: [plain, relaxed],
    kernels: [
      instantiate(plain, heap.memory),
      relaxed && instantiate(relaxed, heap.memory),
    ],
  };
  if (settings.threads === 0) settings.threads = maxThreads(features);
  return runtime;
}

/** Threads kernels can use on this engine: every core where workers can share memory and block, else 1. */
export function maxThreads(f: WasmFeatures): number {
  return f.sharedMemory && f.canBlock ? f.hardwareConcurrency : 1;
}

/** Index of the module variant kernels run with now: 1 relaxed, 0 plain. */
export function activeVariant(): 0 | 1 {
  const r = wasmRuntime();
  return settings.relaxed && r.kernels[1] ? 1 : 0;
}

export function activeKernels(): KernelExports {
  const r = wasmRuntime();
  return r.kernels[activeVariant()]!;
}

export function setRelaxed(enabled: boolean): void {
  settings.relaxed = enabled;
}

export function configuredThreads(): number {
  wasmRuntime();
  return settings.threads;
}

/**
 * Sets the thread budget (clamped to what the engine allows). Going down to 1 keeps idle workers for
 * later; another worker count restarts the pool at the next large kernel.
 */
export function setThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) {
    throw new ValueError(`setNumThreads: expected an integer ≥ 1, got ${n}`);
  }
  const limit = maxThreads(wasmRuntime().features);
  const next = Math.min(n, Math.max(limit, 1));
  if (pool && next > 1 && pool.size !== next - 1) {
    stopWorkers();
    poolFailed = false;
  }
  settings.threads = next;
}

/** Byte address of the caller's GEMM scratch, allocated on first use. */
export function callerWorkArea(): number {
  if (!callerWork) {
    const r = wasmRuntime();
    callerWork = r.heap.alloc(gemmWorkFloats(r.tiling) * 4);
  }
  return callerWork;
}

/**
 * Below this many elements an elementwise operation stays on the calling thread: waking a worker and waiting for
 * it costs tens of microseconds, about what 128 Ki elements take to stream through on one core. (Fused passes:
 * FUSED_PARALLEL_MIN_ELEMENTS.)
 */
export const PARALLEL_MIN_ELEMENTS = 1 << 17;

/**
 * Fused passes (optimizer updates, batch-norm and activation math) split over the threads only from this many
 * elements. They stream data a training step has left cold, where a second core adds little memory bandwidth, and
 * a hand-off waits for the slower core: with W1's SGD update of 307,200 elements split, a step took 3.054, 3.069 and
 * 3.542 ms against 3.083, 3.070 and 3.528 on the calling thread alone, and with another process busy half the time
 * on one core 4.757, 5.001 and 5.679 against 4.233, 4.715 and 5.414 ms (bench/w1_update_split.ts).
 */
export const FUSED_PARALLEL_MIN_ELEMENTS = 1 << 19;
let fusedSplitAt = FUSED_PARALLEL_MIN_ELEMENTS;

/** The bound fused passes split at now (FUSED_PARALLEL_MIN_ELEMENTS unless a benchmark moved it). */
export function fusedParallelMinElements(): number {
  return fusedSplitAt;
}

/** Moves the bound fused passes split at (for benchmarks); returns the previous. */
export function setFusedParallelMinElements(elements: number): number {
  const before = fusedSplitAt;
  fusedSplitAt = elements;
  return before;
}

/** The worker pool for the configured thread count, started on first need; undefined if single-threaded. */
export function workerPool(): WorkerPool | undefined {
  const r = wasmRuntime();
  if (settings.threads <= 1 || poolFailed) return undefined;
  if (!pool) {
    while (workerScratch.length < settings.threads - 1) {
      workerScratch.push(r.heap.alloc(gemmWorkFloats(r.tiling) * 4));
    }
    pool = WorkerPool.start(settings.threads - 1, {
      memory: r.heap.memory,
      modules: r.modules,
      scratch: workerScratch,
    });
    if (!pool) poolFailed = true;
  }
  return pool;
}

/** Workers running now (0 before the first large kernel, when single-threaded, or if they failed to start). */
export function runningWorkers(): number {
  return pool?.size ?? 0;
}

/** Stops the workers (a later parallel call starts them again). */
export function stopWorkers(): void {
  pool?.dispose();
  pool = undefined;
}

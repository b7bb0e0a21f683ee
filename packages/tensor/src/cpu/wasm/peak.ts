// Measures the engine's multiply-add ceiling on this machine, on one thread or on the caller plus workers.
import { peakChains, peakFlopsPerIteration } from "./peak_kernel.ts";
import { activeKernels, activeVariant, configuredThreads, wasmRuntime, workerPool } from "./runtime.ts";

let outPtr = 0;

/**
 * GFLOP/s of the `peak` loop (`iterations` per thread) on `threads` threads (capped at the configured
 * thread count), with the kernel variant in use (relaxed or plain).
 */
export function measurePeakGflops(threads = 1, iterations = 50_000_000): number {
  const heap = wasmRuntime().heap;
  const used = Math.max(1, Math.min(threads, configuredThreads()));
  if (!outPtr) outPtr = heap.alloc(16 * peakChains * 16);
  const kernels = activeKernels();
  // Short calls first, so the engine's optimising tier has compiled `peak` before the timed call.
  for (let i = 0; i < 5; i++) kernels.peak(1_000_000, outPtr);
  const pool = used > 1 ? workerPool() : undefined;
  const workers = pool ? Math.min(used - 1, pool.size) : 0;
  const jobs = Array.from({ length: workers }, (_, i) => ({
    fn: "peak" as const,
    args: [iterations, outPtr + (i + 1) * peakChains * 16],
  }));
  if (pool) pool.run(jobs.map((j) => ({ ...j, args: [1_000_000, j.args[1]!] })), activeVariant(), () => {});
  const t0 = performance.now();
  if (pool) pool.run(jobs, activeVariant(), () => kernels.peak(iterations, outPtr));
  else kernels.peak(iterations, outPtr);
  const seconds = (performance.now() - t0) / 1000;
  return ((workers + 1) * iterations * peakFlopsPerIteration) / seconds / 1e9;
}

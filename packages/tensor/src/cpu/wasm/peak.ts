// Measures the engine's multiply-add ceiling on this machine, on one thread or on the caller plus workers.
import { peakChains, peakFlopsPerIteration } from "./peak_kernel.ts";
import {
  activeKernels,
  activeVariant,
  configuredThreads,
  wasmRuntime,
  workerPool,
} from "./runtime.ts";

/** Work is cut into this many chunks per thread and claimed dynamically, like the kernels' own jobs. */
const CHUNKS_PER_THREAD = 8;
let outPtr = 0;

/**
 * GFLOP/s of the `peak` loop (`iterations` per thread in total) on `threads` threads (capped at the
 * configured thread count), with the kernel variant in use (relaxed or plain). On a busy machine this is
 * the throughput actually available, not the hardware's.
 */
export function measurePeakGflops(
  threads = 1,
  iterations = 50_000_000,
): number {
  const heap = wasmRuntime().heap;
  const used = Math.max(1, Math.min(threads, configuredThreads()));
  const kernels = activeKernels();
  const pool = used > 1 ? workerPool() : undefined;
  const total = pool ? pool.size + 1 : 1;
  const chunkCount = total * CHUNKS_PER_THREAD;
  if (!outPtr) outPtr = heap.alloc(64 * peakChains * 16);
  const chunkIterations = Math.ceil(iterations / CHUNKS_PER_THREAD);
  const chunks = Array.from(
    { length: chunkCount },
    (_, i) => [chunkIterations, outPtr + (i % 64) * peakChains * 16],
  );
  const runAll = (list: number[][]) => {
    if (pool) {
      pool.run(
        "peak",
        activeVariant(),
        list,
        (a) => kernels.peak(a[0]!, a[1]!),
      );
    } else for (const a of list) kernels.peak(a[0]!, a[1]!);
  };
  // Short calls first, so every thread's optimising tier has compiled `peak` before the timed call.
  for (let i = 0; i < 3; i++) runAll(chunks.map(([, out]) => [200_000, out!]));
  const t0 = performance.now();
  runAll(chunks);
  const seconds = (performance.now() - t0) / 1000;
  return (chunkCount * chunkIterations * peakFlopsPerIteration) / seconds / 1e9;
}

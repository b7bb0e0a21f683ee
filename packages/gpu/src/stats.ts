/**
 * What the WebGPU backend has recorded on the device since the last `resetStats()`: the numbers that say how
 * much launch overhead a training step pays on a real GPU (where hundreds of tiny dispatches dominate a step),
 * independent of how fast the adapter is.
 */
export interface GpuStats {
  /** Compute dispatches recorded. */
  dispatches: number;
  /** Dispatches by kernel family (`binary:add`, `copy`, `conv2d-forward`, `deferred`, …). */
  byKernel: Record<string, number>;
  /** Buffer-to-buffer copies and clears recorded in the command stream (outside compute passes). */
  bufferCopies: number;
  /** Uploads written through the queue (tensor data from the host). */
  uploads: number;
  /** Command buffers submitted. */
  submissions: number;
  /** Read-backs (each waits for the GPU). */
  reads: number;
  /** GPU buffers created by the pool (reuse creates none). */
  buffersCreated: number;
  /** Elementwise ops and copies recorded as deferred expressions instead of run. */
  deferred: number;
  /** Deferred expressions run (one dispatch each). */
  deferredRuns: number;
  /** Deferred expressions released before anything needed them (never run). */
  deferredDropped: number;
}

/** The family of a kernel key: its first segment, or two where the second names the operation. */
function family(key: string): string {
  const parts = key.split(":");
  return ["binary", "unary", "reduce", "argreduce", "gemm"].includes(parts[0]!) && parts.length > 1
    ? `${parts[0]}:${parts[1]}`
    : parts[0]!;
}

export function emptyStats(): GpuStats {
  return {
    dispatches: 0,
    byKernel: {},
    bufferCopies: 0,
    uploads: 0,
    submissions: 0,
    reads: 0,
    buffersCreated: 0,
    deferred: 0,
    deferredRuns: 0,
    deferredDropped: 0,
  };
}

/** The backend's running counters (the runtime, the pool and the deferral module add to them). */
export class GpuCounters {
  current: GpuStats = emptyStats();

  dispatch(key: string): void {
    this.current.dispatches++;
    const f = family(key);
    this.current.byKernel[f] = (this.current.byKernel[f] ?? 0) + 1;
  }

  snapshot(): GpuStats {
    return { ...this.current, byKernel: { ...this.current.byKernel } };
  }

  reset(): void {
    this.current = emptyStats();
  }
}

/** `after − before`, field by field (kernel families missing from `before` count from zero). */
export function diffStats(after: GpuStats, before: GpuStats): GpuStats {
  const out = emptyStats();
  for (const k of Object.keys(out) as (keyof GpuStats)[]) {
    if (k !== "byKernel") out[k] = after[k] - before[k];
  }
  for (const [f, n] of Object.entries(after.byKernel)) {
    const d = n - (before.byKernel[f] ?? 0);
    if (d !== 0) out.byKernel[f] = d;
  }
  for (const [f, n] of Object.entries(before.byKernel)) if (!(f in after.byKernel)) out.byKernel[f] = -n;
  return out;
}

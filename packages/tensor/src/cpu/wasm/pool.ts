// Worker threads that run kernel exports over the shared memory. The caller stays synchronous: it posts
// jobs through a shared Int32Array, does its own share, then blocks in Atomics.wait until the workers are
// done — allowed on Deno's and Node's main thread and in any worker, not on a browser's main thread (there
// the kernels stay single-threaded).
import * as C from "./control.ts";
import { kernelNames, type KernelName } from "./kernel_module.ts";
import { workerSource } from "./worker_source.ts";

/** The part of Worker (web) and worker_threads.Worker (Node, Deno's node compat) the pool uses. */
interface WorkerHandle {
  postMessage(message: unknown): void;
  terminate(): unknown;
  unref?(): void;
}

interface NodeWorkerThreads {
  Worker: new (source: string, options: { eval: true }) => WorkerHandle;
}

/** One call of an export on one worker; arguments are i32. */
export interface PoolJob {
  readonly fn: KernelName;
  readonly args: readonly number[];
}

export interface PoolInit {
  readonly memory: WebAssembly.Memory;
  /** [plain, relaxed]; relaxed is undefined where the engine lacks relaxed SIMD. */
  readonly modules: readonly [WebAssembly.Module, WebAssembly.Module | undefined];
}

function nodeWorkerThreads(): NodeWorkerThreads | undefined {
  // getBuiltinModule is synchronous and not a static import, so the package still loads in browsers.
  // Deno 2 provides it too, and only its node:worker_threads workers can be unref'd (a Web Worker keeps
  // a Deno process alive for as long as it exists).
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    return p?.getBuiltinModule?.("node:worker_threads") as NodeWorkerThreads | undefined;
  } catch {
    return undefined;
  }
}

function spawn(): WorkerHandle | undefined {
  const wt = nodeWorkerThreads();
  if (wt) {
    const w = wt.Worker && new wt.Worker(workerSource, { eval: true });
    // Workers sleep in Atomics.wait between jobs; unref lets the process exit when the caller is done.
    w?.unref?.();
    return w;
  }
  if ("Deno" in globalThis || typeof Worker === "undefined") return undefined;
  const url = URL.createObjectURL(new Blob([workerSource], { type: "text/javascript" }));
  return new Worker(url, { type: "module" }) as WorkerHandle;
}

export class WorkerPool {
  private readonly control: Int32Array<SharedArrayBuffer>;
  private readonly workers: WorkerHandle[] = [];
  private readonly posted: number[] = [];
  private disposed = false;

  /** Starts `count` workers; returns undefined where workers cannot be created. */
  static start(count: number, init: PoolInit, readyTimeoutMs = 10_000): WorkerPool | undefined {
    const pool = new WorkerPool(count);
    for (let slot = 0; slot < count; slot++) {
      let w: WorkerHandle | undefined;
      try {
        w = spawn();
      } catch {
        w = undefined;
      }
      if (!w) {
        pool.dispose();
        return undefined;
      }
      pool.workers.push(w);
      w.postMessage({
        control: pool.control,
        slot,
        memory: init.memory,
        modules: init.modules,
        names: kernelNames,
      });
    }
    // Wait until every worker has its instances. Worker start-up runs on the workers' own threads
    // (a few ms in Deno, ~20 ms in Node), so blocking here cannot deadlock.
    const deadline = performance.now() + readyTimeoutMs;
    for (let slot = 0; slot < count; slot++) {
      const at = slot * C.SLOT_INTS + C.READY;
      while (Atomics.load(pool.control, at) === 0) {
        const left = deadline - performance.now();
        if (left <= 0) {
          pool.dispose();
          return undefined;
        }
        Atomics.wait(pool.control, at, 0, Math.min(left, 50));
      }
    }
    return pool;
  }

  private constructor(count: number) {
    this.control = new Int32Array(new SharedArrayBuffer(count * C.SLOT_INTS * 4));
    for (let i = 0; i < count; i++) this.posted.push(0);
  }

  get size(): number {
    return this.workers.length;
  }

  /**
   * Runs jobs[i] on worker i and `onCaller` on this thread at the same time; returns when all are done.
   * Throws if a worker's job threw.
   */
  run(jobs: readonly PoolJob[], variant: 0 | 1, onCaller: () => void): void {
    if (this.disposed) throw new Error("wasm worker pool: used after dispose()");
    if (jobs.length > this.workers.length) throw new Error("wasm worker pool: more jobs than workers");
    const c = this.control;
    jobs.forEach((job, slot) => {
      if (job.args.length > C.MAX_ARGS) throw new Error(`wasm worker pool: ${job.fn} has too many arguments`);
      const base = slot * C.SLOT_INTS;
      c[base + C.FN] = kernelNames.indexOf(job.fn);
      c[base + C.VARIANT] = variant;
      c[base + C.ARGC] = job.args.length;
      for (let i = 0; i < job.args.length; i++) c[base + C.ARGS + i] = job.args[i]!;
      // The atomic add publishes the plain writes above to the worker (sequentially consistent).
      this.posted[slot] = Atomics.add(c, base + C.SEQ, 1) + 1;
      Atomics.notify(c, base + C.SEQ);
    });
    let callerError: unknown;
    try {
      onCaller();
    } catch (e) {
      callerError = e;
    }
    let failed = -1;
    for (let slot = 0; slot < jobs.length; slot++) {
      const at = slot * C.SLOT_INTS + C.DONE;
      const want = this.posted[slot]!;
      let spins = 0;
      for (;;) {
        const done = Atomics.load(c, at);
        if (done === want) break;
        if (++spins > C.SPIN) Atomics.wait(c, at, done, 100);
      }
      if (c[slot * C.SLOT_INTS + C.STATUS] !== 0) failed = slot;
    }
    if (callerError !== undefined) throw callerError;
    if (failed >= 0) throw new Error(`wasm worker ${failed}: ${jobs[failed]!.fn} failed (see the worker's console)`);
  }

  /** Asks every worker to leave its loop and terminates it. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const c = this.control;
    this.workers.forEach((w, slot) => {
      const base = slot * C.SLOT_INTS;
      Atomics.store(c, base + C.QUIT, 1);
      Atomics.add(c, base + C.SEQ, 1);
      Atomics.notify(c, base + C.SEQ);
      try {
        w.terminate();
      } catch {
        // already gone
      }
    });
    this.workers.length = 0;
  }
}

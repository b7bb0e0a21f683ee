// Worker threads that run kernel exports over the shared memory. The caller stays synchronous: it posts
// jobs through a shared Int32Array, does its own share, then blocks in Atomics.wait until the workers are
// done — allowed on Deno's and Node's main thread and in any worker, not on a browser's main thread (there
// the kernels stay single-threaded).
import * as C from "./control.ts";
import { InternalError } from "../../errors.ts";
import { type KernelName, kernelNames } from "./kernel_module.ts";
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

export interface PoolInit {
  readonly memory: WebAssembly.Memory;
  /** [plain, relaxed]; relaxed is undefined where the engine lacks relaxed SIMD. */
  readonly modules: readonly [
    WebAssembly.Module,
    WebAssembly.Module | undefined,
  ];
  /** Byte address of each worker's private scratch (see `run`'s scratchArg). */
  readonly scratch: readonly number[];
}

function nodeWorkerThreads(): NodeWorkerThreads | undefined {
  // getBuiltinModule is synchronous and not a static import, so the package still loads in browsers.
  // Deno 2 provides it too, and only its node:worker_threads workers can be unref'd (a Web Worker keeps
  // a Deno process alive for as long as it exists).
  const p =
    (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } })
      .process;
  try {
    return p?.getBuiltinModule?.("node:worker_threads") as
      | NodeWorkerThreads
      | undefined;
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
  const url = URL.createObjectURL(
    new Blob([workerSource], { type: "text/javascript" }),
  );
  return new Worker(url, { type: "module" }) as WorkerHandle;
}

export class WorkerPool {
  private readonly control = new Int32Array(
    new SharedArrayBuffer(C.CONTROL_INTS * 4),
  );
  private readonly floats = new Float32Array(this.control.buffer);
  /** Bytes of the fused module a job names; workers compile each id once and cache it. */
  private readonly moduleBuffer = new Uint8Array(new SharedArrayBuffer(C.MODULE_BUFFER_BYTES));
  /** Id of the module now in moduleBuffer, so a module's bytes are copied once per change, not per job. */
  private loadedModule = -1;
  private readonly workers: WorkerHandle[] = [];
  private disposed = false;

  /** Starts `count` workers; returns undefined where workers cannot be created. */
  static start(
    count: number,
    init: PoolInit,
    readyTimeoutMs = 10_000,
  ): WorkerPool | undefined {
    const pool = new WorkerPool();
    for (let i = 0; i < count; i++) {
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
        memory: init.memory,
        modules: init.modules,
        names: kernelNames,
        scratch: init.scratch[i],
        moduleBuffer: pool.moduleBuffer,
      });
    }
    // Wait until every worker has its instances. Worker start-up runs on the workers' own threads
    // (a few ms in Deno, ~20 ms in Node), so blocking here cannot deadlock.
    const deadline = performance.now() + readyTimeoutMs;
    for (;;) {
      const ready = Atomics.load(pool.control, C.READY);
      if (ready >= count) return pool;
      const left = deadline - performance.now();
      if (left <= 0) {
        pool.dispose();
        return undefined;
      }
      Atomics.wait(pool.control, C.READY, ready, Math.min(left, 50));
    }
  }

  get size(): number {
    return this.workers.length;
  }

  /**
   * Runs fn(...chunks[i]) for every chunk, spread over the workers and this thread (which runs its share
   * through `onCaller`, with its own instance); returns when all chunks are done. Throws if any chunk threw.
   * With scratchArg ≥ 0, each worker puts the address of its own scratch in that argument (the caller's
   * onCaller does the same with its own), so scratch is per thread, not per chunk.
   */
  run(
    fn: KernelName,
    variant: 0 | 1,
    chunks: readonly (readonly number[])[],
    onCaller: (args: readonly number[]) => void,
    scratchArg = -1,
  ): void {
    this.post(kernelNames.indexOf(fn), fn, variant, -1, chunks, chunks[0]?.length ?? 0, onCaller, scratchArg);
  }

  /**
   * Runs the `fused` export of a fused expression module (`bytes`, identified by `id`: the same id must always
   * mean the same bytes) over the chunks, like `run`. Arguments from `floatFrom` on are passed as float32.
   * False when the module is too large for the shared module buffer or a chunk has more than MAX_ARGS arguments
   * (the caller then runs it alone).
   */
  runModule(
    id: number,
    bytes: Uint8Array,
    chunks: readonly (readonly number[])[],
    floatFrom: number,
    onCaller: (args: readonly number[]) => void,
  ): boolean {
    if (bytes.length > this.moduleBuffer.length || id < 0 || (chunks[0]?.length ?? 0) > C.MAX_ARGS) return false;
    if (this.loadedModule !== id) {
      // No job is running (run is synchronous), so no worker reads the buffer while it changes.
      this.moduleBuffer.set(bytes);
      this.loadedModule = id;
    }
    this.control[C.MODULE_BYTES] = bytes.length;
    this.post(-1, `fused module ${id}`, 0, id, chunks, floatFrom, onCaller, -1);
    return true;
  }

  private post(
    fnIndex: number,
    fn: string,
    variant: 0 | 1,
    moduleId: number,
    chunks: readonly (readonly number[])[],
    floatFrom: number,
    onCaller: (args: readonly number[]) => void,
    scratchArg: number,
  ): void {
    if (this.disposed) {
      throw new InternalError("wasm worker pool: used after dispose()");
    }
    if (chunks.length === 0) return;
    if (chunks.length > C.MAX_CHUNKS) {
      throw new InternalError(`wasm worker pool: more than ${C.MAX_CHUNKS} chunks`);
    }
    const argc = chunks[0]!.length;
    if (argc > C.MAX_ARGS) {
      throw new InternalError(
        `wasm worker pool: ${fn} has more than ${C.MAX_ARGS} arguments`,
      );
    }
    const c = this.control;
    Atomics.store(c, C.NEXT, C.NEXT_CLOSED);
    c[C.FN] = fnIndex;
    c[C.MODULE] = moduleId;
    c[C.FLOAT_FROM] = Math.min(floatFrom, argc);
    c[C.VARIANT] = variant;
    c[C.ARGC] = argc;
    c[C.CHUNKS] = chunks.length;
    c[C.ERROR] = 0;
    c[C.SCRATCH_ARG] = scratchArg;
    chunks.forEach((args, i) => {
      const at = C.TABLE + i * argc;
      for (let a = 0; a < argc; a++) {
        if (a < floatFrom) c[at + a] = args[a]!;
        else this.floats[at + a] = args[a]!;
      }
    });
    Atomics.store(c, C.COMPLETED, 0);
    const generation = (Atomics.load(c, C.JOB_SEQ) + 1) & C.GENERATION_MASK;
    // Publishing NEXT with the new generation makes the job claimable; the plain writes above are
    // visible to any thread that reads this value (atomics are sequentially consistent).
    Atomics.store(c, C.NEXT, generation << 16);
    Atomics.add(c, C.JOB_SEQ, 1);
    Atomics.notify(c, C.JOB_SEQ);

    let callerError: unknown;
    for (;;) {
      const next = Atomics.load(c, C.NEXT);
      const index = next & 0xffff;
      if (index >= chunks.length) break;
      if (Atomics.compareExchange(c, C.NEXT, next, next + 1) !== next) continue;
      try {
        onCaller(chunks[index]!);
      } catch (e) {
        callerError ??= e;
      }
      Atomics.add(c, C.COMPLETED, 1);
    }
    // Only chunks a worker has claimed can still be running; wait for those.
    let spins = 0;
    for (;;) {
      const done = Atomics.load(c, C.COMPLETED);
      if (done >= chunks.length) break;
      if (++spins > C.SPIN) Atomics.wait(c, C.COMPLETED, done, 100);
    }
    if (callerError !== undefined) throw callerError;
    if (c[C.ERROR] !== 0) {
      throw new InternalError(
        `wasm worker pool: ${fn} failed in a worker (see its console)`,
      );
    }
  }

  /** Asks every worker to leave its loop and terminates it. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const c = this.control;
    Atomics.store(c, C.QUIT, 1);
    Atomics.add(c, C.JOB_SEQ, 1);
    Atomics.notify(c, C.JOB_SEQ);
    for (const w of this.workers) {
      try {
        w.terminate();
      } catch {
        // already gone
      }
    }
    this.workers.length = 0;
  }
}

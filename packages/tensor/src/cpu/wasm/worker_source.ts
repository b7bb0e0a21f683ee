// The worker's program, as JavaScript source. It is started from a string (eval in node:worker_threads,
// a blob: URL for Web Workers) rather than `new URL("./worker.ts", import.meta.url)`, because a .ts file
// is not runnable by Node and is renamed by bundlers; a string survives every build and runtime.
import * as C from "./control.ts";

/**
 * Receives {control, memory, modules, names, scratch, moduleBuffer} once, instantiates every module on the shared memory, then
 * loops: sleep until JOB_SEQ moves, claim and run chunks of that job until none are left.
 */
export const workerSource = `"use strict";
const JOB_SEQ = ${C.JOB_SEQ}, NEXT = ${C.NEXT}, COMPLETED = ${C.COMPLETED}, CHUNKS = ${C.CHUNKS}, FN = ${C.FN},
  VARIANT = ${C.VARIANT}, ARGC = ${C.ARGC}, ERROR = ${C.ERROR}, QUIT = ${C.QUIT}, READY = ${C.READY},
  SCRATCH_ARG = ${C.SCRATCH_ARG}, MODULE = ${C.MODULE}, MODULE_BYTES = ${C.MODULE_BYTES}, FLOAT_FROM = ${C.FLOAT_FROM},
  TABLE = ${C.TABLE}, GENERATION_MASK = ${C.GENERATION_MASK}, SPIN = ${C.SPIN};
function run(init) {
  const { control, memory, modules, names, scratch, moduleBuffer } = init;
  const floats = new Float32Array(control.buffer);
  // Fused expression modules by id, compiled from the shared module buffer the first time a job names one.
  const fused = new Map();
  const fusedKernel = (id) => {
    let fn = fused.get(id);
    if (!fn) {
      const bytes = new Uint8Array(moduleBuffer.subarray(0, control[MODULE_BYTES]));
      fn = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports.fused;
      fused.set(id, fn);
    }
    return fn;
  };
  const variants = modules.map((m) => {
    if (!m) return undefined;
    const exports = new WebAssembly.Instance(m, { env: { memory } }).exports;
    return names.map((n) => exports[n]);
  });
  // Read JOB_SEQ before announcing READY: a job posted right after READY must look new to this loop.
  let seen = Atomics.load(control, JOB_SEQ);
  Atomics.add(control, READY, 1);
  Atomics.notify(control, READY);
  for (;;) {
    let spins = 0;
    while (Atomics.load(control, JOB_SEQ) === seen) {
      if (++spins > SPIN) {
        Atomics.wait(control, JOB_SEQ, seen);
        spins = 0;
      }
    }
    seen = Atomics.load(control, JOB_SEQ);
    if (Atomics.load(control, QUIT) !== 0) break;
    const generation = seen & GENERATION_MASK;
    for (;;) {
      const next = Atomics.load(control, NEXT);
      if (next >>> 16 !== generation) break;
      const chunks = Atomics.load(control, CHUNKS);
      const index = next & 0xffff;
      if (index >= chunks) break;
      if (Atomics.compareExchange(control, NEXT, next, next + 1) !== next) continue;
      const argc = control[ARGC];
      try {
        const id = control[MODULE];
        const fn = id >= 0 ? fusedKernel(id) : variants[control[VARIANT]][control[FN]];
        const args = Array.from(control.subarray(TABLE + index * argc, TABLE + (index + 1) * argc));
        for (let a = control[FLOAT_FROM]; a < argc; a++) args[a] = floats[TABLE + index * argc + a];
        const scratchArg = control[SCRATCH_ARG];
        if (scratchArg >= 0) args[scratchArg] = scratch;
        fn(...args);
      } catch (e) {
        Atomics.store(control, ERROR, 1);
        console.error("wasm kernel worker:", e);
      }
      if (Atomics.add(control, COMPLETED, 1) + 1 === chunks) Atomics.notify(control, COMPLETED);
    }
  }
  if (typeof close === "function") close();
}
// A node:worker_threads worker (Node, Deno) talks through parentPort, found the way pool.ts found Worker; a Web Worker
// through self.onmessage.
const nodeThreads = typeof process === "object" ? process.getBuiltinModule?.("node:worker_threads") : undefined;
if (nodeThreads?.parentPort) {
  nodeThreads.parentPort.once("message", run);
} else {
  self.onmessage = (e) => run(e.data);
}
`;

// The worker's program, as JavaScript source. It is started from a string (eval in node:worker_threads,
// a blob: URL for Web Workers) rather than `new URL("./worker.ts", import.meta.url)`, because a .ts file
// is not runnable by Node and is renamed by bundlers; a string survives every build and runtime.
import * as C from "./control.ts";

/**
 * Receives {control, slot, memory, modules} once, instantiates every module on the shared memory, then
 * loops: wait for SEQ to move, call the requested export with the i32 arguments, publish DONE.
 */
export const workerSource = `"use strict";
const SLOT_INTS = ${C.SLOT_INTS}, SEQ = ${C.SEQ}, DONE = ${C.DONE}, READY = ${C.READY}, FN = ${C.FN},
  VARIANT = ${C.VARIANT}, ARGC = ${C.ARGC}, STATUS = ${C.STATUS}, QUIT = ${C.QUIT}, ARGS = ${C.ARGS},
  SPIN = ${C.SPIN};
function run(init) {
  const { control, slot, memory, modules, names } = init;
  const base = slot * SLOT_INTS;
  const variants = modules.map((m) => {
    if (!m) return undefined;
    const exports = new WebAssembly.Instance(m, { env: { memory } }).exports;
    return names.map((n) => exports[n]);
  });
  // Read SEQ before announcing READY: a job posted right after READY must look new to this loop.
  let seen = Atomics.load(control, base + SEQ);
  Atomics.store(control, base + READY, 1);
  Atomics.notify(control, base + READY);
  for (;;) {
    let spins = 0;
    while (Atomics.load(control, base + SEQ) === seen) {
      if (++spins > SPIN) {
        Atomics.wait(control, base + SEQ, seen);
        spins = 0;
      }
    }
    seen = Atomics.load(control, base + SEQ);
    if (Atomics.load(control, base + QUIT) !== 0) break;
    let status = 0;
    try {
      const fn = variants[control[base + VARIANT]][control[base + FN]];
      const args = Array.from(control.subarray(base + ARGS, base + ARGS + control[base + ARGC]));
      fn(...args);
    } catch (e) {
      status = 1;
      console.error("wasm kernel worker:", e);
    }
    Atomics.store(control, base + STATUS, status);
    Atomics.store(control, base + DONE, seen);
    Atomics.notify(control, base + DONE);
  }
  if (typeof close === "function") close();
}
if (typeof require === "function") {
  require("node:worker_threads").parentPort.once("message", run);
} else {
  self.onmessage = (e) => run(e.data);
}
`;

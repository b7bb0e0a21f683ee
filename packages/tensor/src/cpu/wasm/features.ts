// What the running JavaScript engine offers, probed once. Each probe is a tiny module or call, so the
// answer is what the engine does, not what its version number suggests.
import { ModuleBuilder, ValType } from "./emitter.ts";

/** What the engine offers the kernels, probed once. */
export interface WasmFeatures {
  /** 128-bit SIMD (every current engine). Without it the kernels are not available. */
  readonly simd: boolean;
  /** Relaxed SIMD (f32x4.relaxed_madd). Node 20 needs --experimental-wasm-relaxed-simd. */
  readonly relaxed: boolean;
  /** Shared WebAssembly.Memory can be created (browsers need cross-origin isolation). */
  readonly sharedMemory: boolean;
  /** This thread may block in Atomics.wait (not a browser's main thread). */
  readonly canBlock: boolean;
  /** Logical cores the engine reports. */
  readonly hardwareConcurrency: number;
  /** Major version of V8 where the engine tells it (Node, Deno); picks code-generation tuning. */
  readonly v8Major: number | undefined;
}

function probeModule(body: (mb: ModuleBuilder) => void): boolean {
  try {
    const mb = new ModuleBuilder();
    body(mb);
    return WebAssembly.validate(mb.build());
  } catch {
    return false;
  }
}

function probeSimd(): boolean {
  return probeModule((mb) => {
    const f = mb.func("f", [ValType.v128, ValType.v128], [ValType.v128]);
    f.f32x4Add(f.params[0], f.params[1]);
  });
}

function probeRelaxed(): boolean {
  return probeModule((mb) => {
    const f = mb.func("f", [ValType.v128, ValType.v128, ValType.v128], [
      ValType.v128,
    ]);
    f.f32x4RelaxedMadd(f.params[0], f.params[1], f.params[2]);
  });
}

function probeSharedMemory(): boolean {
  try {
    const m = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return typeof SharedArrayBuffer !== "undefined" &&
      m.buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

function probeCanBlock(): boolean {
  if (typeof SharedArrayBuffer === "undefined") return false;
  try {
    // Times out at once when blocking is allowed; throws on a browser's main thread.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 0);
    return true;
  } catch {
    return false;
  }
}

let cached: WasmFeatures | undefined;

/** Probes once per process (or worker) and remembers the answer. */
export function wasmFeatures(): WasmFeatures {
  if (!cached) {
    const g = globalThis as {
      navigator?: { hardwareConcurrency?: number };
      process?: {
        versions?: { v8?: string };
        getBuiltinModule?: (
          id: string,
        ) => { availableParallelism?: () => number };
      };
      Deno?: { version?: { v8?: string } };
    };
    const v8 = g.Deno?.version?.v8 ?? g.process?.versions?.v8;
    const v8Major = v8 ? Number.parseInt(v8, 10) : undefined;
    // Node 20 has no navigator; its os module answers through getBuiltinModule (no static node: import).
    const cores = g.navigator?.hardwareConcurrency ??
      g.process?.getBuiltinModule?.("node:os")?.availableParallelism?.();
    cached = {
      simd: probeSimd(),
      relaxed: probeRelaxed(),
      sharedMemory: probeSharedMemory(),
      canBlock: probeCanBlock(),
      hardwareConcurrency: Math.max(1, cores ?? 1),
      v8Major: Number.isFinite(v8Major) ? v8Major : undefined,
    };
  }
  return cached;
}

/** Forgets the probe results, for tests that toggle engine flags at run time. */
export function resetWasmFeatures(): void {
  cached = undefined;
}

// Node 20 validates relaxed SIMD only behind a V8 flag; the Wasm kernel tests set it so that both SIMD variants
// run under vitest. It must be set before the kernels are first compiled, so callers import the kernels
// dynamically after calling this. Elsewhere (Deno, newer Node) it does nothing.
type V8Module = { setFlagsFromString(flags: string): void };

export function allowRelaxedSimdOnNode(): void {
  const nodeProcess = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  (nodeProcess?.getBuiltinModule?.("node:v8") as V8Module | undefined)?.setFlagsFromString(
    "--experimental-wasm-relaxed-simd",
  );
}

// Float32 buffers inside the kernels' memory for the Wasm kernel tests and benchmarks: operands there are used
// in place (no staging copy), which is the path the CPU backend's storages take.
import { wasmRuntime } from "../src/cpu/wasm/runtime.ts";

/** `length` zeroed float32 elements in kernel memory; `view` is re-read after anything that may grow the memory. */
export interface KernelBuffer {
  readonly ptr: number;
  readonly length: number;
  readonly view: Float32Array;
  free(): void;
}

export function wasmAlloc(length: number): KernelBuffer {
  const heap = wasmRuntime().heap;
  const ptr = heap.alloc(length * 4);
  const buffer = {
    ptr,
    length,
    get view() {
      return new Float32Array(heap.f32.buffer, ptr, length);
    },
    free: () => heap.release(ptr),
  };
  buffer.view.fill(0);
  return buffer;
}

// One grow-only block of kernel memory that copying entry points stage their operands in. Reused by every
// call, so a training loop that passes ordinary Float32Arrays allocates nothing here after the first step.
import { wasmRuntime } from "./runtime.ts";

let ptr = 0;
let bytes = 0;

/** Byte address of at least `size` bytes of scratch; valid until the next call. */
export function scratch(size: number): number {
  if (size > bytes) {
    const heap = wasmRuntime().heap;
    if (ptr) heap.release(ptr);
    // A quarter of headroom so slowly growing requests (variable batch sizes) do not reallocate each time.
    bytes = Math.ceil((size * 1.25) / 64) * 64;
    ptr = heap.alloc(bytes);
  }
  return ptr;
}

/**
 * Byte address of `data[offset]` when `data` is a view into the kernels' memory, else undefined. Take
 * every such address before allocating: a grow detaches a non-shared memory's old views.
 */
export function addressInMemory(
  data: Float32Array,
  offset = 0,
): number | undefined {
  return wasmRuntime().heap.owns(data.buffer)
    ? data.byteOffset + offset * 4
    : undefined;
}

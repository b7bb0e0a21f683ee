// Float32 storage that lives inside the kernels' memory, so GEMM and the other kernels read and write it
// in place: no copy in, no copy out.
import type { WasmHeap } from "./heap.ts";
import { DisposedError } from "../../errors.ts";

// A dropped buffer is returned to the heap when collected; explicit free() is still the way to bound memory.
const collector = new FinalizationRegistry<{ heap: WasmHeap; ptr: number }>((
  { heap, ptr },
) => heap.release(ptr));

/** Float32 elements inside the kernels' memory (from wasmAlloc); free() returns them. */
export class WasmFloat32Buffer {
  private freed = false;
  private cached: Float32Array | undefined;
  private cachedFrom: ArrayBufferLike | undefined;

  /** Wraps a block the heap handed out; use wasmAlloc rather than calling this. */
  constructor(
    private readonly heap: WasmHeap,
    /** Byte address inside the memory. */
    readonly ptr: number,
    /** Number of float32 elements. */
    readonly length: number,
  ) {
    collector.register(this, { heap, ptr }, this);
  }

  /**
   * The elements as a Float32Array over the memory. Read it again after anything that may allocate:
   * a memory grow replaces the buffer (and detaches it when the memory is not shared).
   */
  get view(): Float32Array {
    if (this.freed) throw new DisposedError("WasmFloat32Buffer: used after free()");
    const whole = this.heap.f32;
    if (this.cachedFrom !== whole.buffer || !this.cached) {
      this.cached = new Float32Array(whole.buffer, this.ptr, this.length);
      this.cachedFrom = whole.buffer;
    }
    return this.cached;
  }

  /** True after free(). */
  get isFreed(): boolean {
    return this.freed;
  }

  /** Returns the block to the heap; the buffer may not be used afterwards. Calling it twice is harmless. */
  free(): void {
    if (this.freed) return;
    this.freed = true;
    collector.unregister(this);
    this.heap.release(this.ptr);
    this.cached = undefined;
  }
}

import type { Backend, Storage } from "../backend.ts";
import { allocTyped, bytesPerElement, type DType, type TypedArray } from "../dtype.ts";

/**
 * CPU memory: a typed array of the storage's dtype. `ptr` is its byte address inside the WebAssembly kernels'
 * memory when it lives there (float32 storages, see kernel_memory.ts), else 0.
 */
export class CpuStorage implements Storage {
  refs = 0;
  /** Set by the backend's release, so a second release cannot hand the memory back twice. */
  released = false;
  /**
   * The storage must read as zeros but its (recycled) memory was not cleared yet: `alloc` followed by a
   * `copy` over every element (how `contiguous()` and `cast` work) then never pays for the zeroing.
   */
  zeroPending = false;
  constructor(readonly backend: Backend, readonly dtype: DType, readonly data: TypedArray, readonly ptr = 0) {}
  get size(): number {
    return this.data.length;
  }
  get bytes(): number {
    return this.data.length * bytesPerElement(this.dtype);
  }
}

/** The typed array behind a storage made by the CPU backend. */
export function dataOf(s: Storage): TypedArray {
  const c = s as CpuStorage;
  if (c.zeroPending) clearPending(c);
  return c.data;
}

/** Byte address of the storage in kernel memory, or 0 when it is an ordinary array. */
export function ptrOf(s: Storage): number {
  const c = s as CpuStorage;
  if (c.zeroPending) clearPending(c);
  return c.ptr;
}

function clearPending(c: CpuStorage): void {
  c.data.fill(0);
  c.zeroPending = false;
}

export function newTyped(dtype: DType, size: number): TypedArray {
  return allocTyped(dtype, size);
}

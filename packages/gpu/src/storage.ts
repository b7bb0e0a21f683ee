import type { Backend, DType, Storage } from "@backprop/tensor";
import type { PooledBuffer } from "./pool.ts";

/**
 * A tensor's memory on the GPU: one pooled buffer, 4 bytes per element for every dtype (bool is stored as a
 * u32 0/1, because WGSL has no byte-addressed storage; `upload` and `read` convert from and to one byte).
 */
export class GpuStorage implements Storage {
  refs = 0;
  released = false;
  constructor(
    readonly backend: Backend,
    readonly dtype: DType,
    readonly size: number,
    readonly buf: PooledBuffer,
  ) {}

  /** Bytes of tensor data (the pooled buffer may be larger). */
  get bytes(): number {
    return this.size * 4;
  }
}

export function gpuStorage(s: Storage): GpuStorage {
  return s as GpuStorage;
}

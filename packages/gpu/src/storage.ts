import type { Backend, DType, Storage } from "@backprop/tensor";
import type { PooledBuffer } from "./pool.ts";

/**
 * A tensor's memory on the GPU: one pooled buffer, 4 bytes per element for every dtype (bool is stored as a
 * u32 0/1, because WGSL has no byte-addressed storage; `upload` and `read` convert from and to one byte).
 *
 * A storage made by `full` starts as a constant: the bit pattern every element holds, written to the buffer
 * only when a kernel needs the buffer. The scalars of `x.mul(0.5)` become 0-d `full` arrays, so elementwise
 * kernels take such constants as parameters instead, and most of them are never written at all.
 */
export class GpuStorage implements Storage {
  refs = 0;
  released = false;
  #constantBits: number | null = null;

  constructor(
    readonly backend: Backend,
    readonly dtype: DType,
    readonly size: number,
    /** The buffer, whatever its contents; `buf` is the buffer with the contents written. */
    readonly raw: PooledBuffer,
    private readonly writeConstant: (s: GpuStorage, bits: number) => void,
  ) {}

  /** Bytes of tensor data (the pooled buffer may be larger). */
  get bytes(): number {
    return this.size * 4;
  }

  /** The bit pattern of every element while the storage is an unwritten constant, else null. */
  get constantBits(): number | null {
    return this.#constantBits;
  }

  setConstant(bits: number): void {
    this.#constantBits = bits >>> 0;
  }

  /** Forgets a pending constant without writing it (the caller overwrites every element). */
  clearConstant(): void {
    this.#constantBits = null;
  }

  /** The buffer, with a pending constant written first. */
  get buf(): PooledBuffer {
    const bits = this.#constantBits;
    if (bits !== null) {
      this.#constantBits = null;
      this.writeConstant(this, bits);
    }
    return this.raw;
  }
}

export function gpuStorage(s: Storage): GpuStorage {
  return s as GpuStorage;
}

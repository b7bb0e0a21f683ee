import type { Backend, DType, Storage } from "@backprop/tensor";
import type { Pending } from "./deferral.ts";
import type { PooledBuffer } from "./pool.ts";

/** What a storage asks its backend for: its buffer (on first use), and to write its pending contents into it. */
export interface StorageHooks {
  acquire(bytes: number): PooledBuffer;
  writeConstant(s: GpuStorage, bits: number): void;
  materialize(s: GpuStorage): void;
}

let nextStorageId = 1;

/**
 * A tensor's memory on the GPU: one pooled buffer, 4 bytes per element for every dtype (bool is stored as a
 * u32 0/1, because WGSL has no byte-addressed storage; `upload` and `read` convert from and to one byte).
 *
 * A storage made by `full` starts as a constant: the bit pattern every element holds, written to the buffer
 * only when a kernel needs the buffer. The scalars of `x.mul(0.5)` become 0-d `full` arrays, so elementwise
 * kernels take such constants as parameters instead, and most of them are never written at all.
 *
 * A storage made by a deferred elementwise op or copy starts `pending` (deferral.ts): an expression over other
 * storages, run when a kernel needs the buffer. Its buffer is taken from the pool only then. The storages a
 * pending expression reads list it in their `dependents`, which keeps their buffers out of the pool (and
 * unwritten) until it has run or been released.
 */
export class GpuStorage implements Storage {
  refs = 0;
  released = false;
  readonly id: number = nextStorageId++;
  #constantBits: number | null = null;
  #raw: PooledBuffer | null = null;
  /** Deferred contents, not yet computed. */
  pending: Pending | null = null;
  /** Pending storages whose expressions read this one. */
  dependents: Set<GpuStorage> | null = null;

  constructor(
    readonly backend: Backend,
    readonly dtype: DType,
    readonly size: number,
    private readonly hooks: StorageHooks,
  ) {}

  /** The buffer, whatever its contents (taken from the pool on first use); `buf` is the buffer with the contents written. */
  get raw(): PooledBuffer {
    return (this.#raw ??= this.hooks.acquire(this.size * 4));
  }

  /** Whether a buffer was taken from the pool. */
  get acquired(): boolean {
    return this.#raw !== null;
  }

  /** Hands the buffer back (once; null when there is none). */
  takeBuffer(): PooledBuffer | null {
    const b = this.#raw;
    this.#raw = null;
    return b;
  }

  /** Puts `b` in place of the current buffer (taken first if there is none) and returns the one it replaces. */
  swapBuffer(b: PooledBuffer): PooledBuffer {
    const old = this.raw;
    this.#raw = b;
    return old;
  }

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

  /** The buffer, with a pending constant or deferred expression written first. */
  get buf(): PooledBuffer {
    if (this.pending) this.hooks.materialize(this);
    const bits = this.#constantBits;
    if (bits !== null) {
      this.#constantBits = null;
      this.hooks.writeConstant(this, bits);
    }
    return this.raw;
  }
}

export function gpuStorage(s: Storage): GpuStorage {
  return s as GpuStorage;
}

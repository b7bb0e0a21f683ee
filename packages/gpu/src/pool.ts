import { BUFFER_COPY_DST, BUFFER_COPY_SRC, BUFFER_STORAGE } from "./usage.ts";

/** A storage-usage GPU buffer owned by the pool. `lastBatch` is the command batch that last used it. */
export interface PooledBuffer {
  readonly buffer: GPUBuffer;
  readonly id: number;
  readonly bytes: number;
  lastBatch: number;
}

/** What the buffer pool holds. */
export interface PoolStats {
  /** Bytes of every buffer the pool owns, in use or free: what the process holds on the GPU for tensors. */
  heldBytes: number;
  /** Bytes of the free buffers waiting for reuse. */
  freeBytes: number;
  /** Buffers the pool owns, in use or free. */
  buffers: number;
  /** Free buffers waiting for reuse. */
  freeBuffers: number;
}

const MIN_BYTES = 256;

/**
 * Size class of a request: the next of 1, 1.25, 1.5, 1.75 × a power of two (at most 25% unused), so tensors of
 * nearby sizes share buffers across training steps. Classes never exceed `cap` (the binding limit); a request
 * above the largest class below `cap` gets exactly its own size.
 */
export function sizeClass(bytes: number, cap: number): number {
  if (bytes <= MIN_BYTES) return MIN_BYTES;
  const p = 2 ** Math.floor(Math.log2(bytes));
  for (const f of [1, 1.25, 1.5, 1.75, 2]) {
    const c = p * f;
    if (c >= bytes) return c <= cap ? c : Math.ceil(bytes / 4) * 4;
  }
  return Math.ceil(bytes / 4) * 4;
}

/**
 * Size-classed free lists of GPU buffers. `release` puts a buffer back for the next request of its class;
 * nothing is destroyed until `trim` (or the free bytes pass `maxFreeBytes`), so a training loop that allocates
 * the same shapes every step reaches a fixed set of buffers after its first step.
 */
export class BufferPool {
  #free = new Map<number, PooledBuffer[]>();
  #nextId = 1;
  #held = 0;
  #freeBytes = 0;
  #buffers = 0;
  #freeCount = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly maxBindingBytes: number,
    /** Free bytes kept for reuse; beyond this, released buffers are destroyed. */
    public maxFreeBytes: number,
    /** Destroys a buffer once no pending command uses it. */
    private readonly destroyLater: (b: GPUBuffer) => void,
    /** Called for every buffer created (the backend's statistics). */
    private readonly onCreate: () => void = () => {},
  ) {}

  acquire(bytes: number): PooledBuffer {
    const size = sizeClass(bytes, this.maxBindingBytes);
    const list = this.#free.get(size);
    const reused = list?.pop();
    if (reused) {
      this.#freeBytes -= size;
      this.#freeCount--;
      return reused;
    }
    const buffer = this.device.createBuffer({ size, usage: BUFFER_STORAGE | BUFFER_COPY_SRC | BUFFER_COPY_DST });
    this.#held += size;
    this.#buffers++;
    this.onCreate();
    return { buffer, id: this.#nextId++, bytes: size, lastBatch: -1 };
  }

  release(b: PooledBuffer): void {
    if (this.#freeBytes + b.bytes > this.maxFreeBytes) {
      this.drop(b);
      return;
    }
    let list = this.#free.get(b.bytes);
    if (!list) this.#free.set(b.bytes, (list = []));
    list.push(b);
    this.#freeBytes += b.bytes;
    this.#freeCount++;
  }

  /** Destroys every free buffer (memory in use is untouched). */
  trim(): void {
    for (const list of this.#free.values()) for (const b of list) this.drop(b);
    this.#free.clear();
    this.#freeBytes = 0;
    this.#freeCount = 0;
  }

  private drop(b: PooledBuffer): void {
    this.#held -= b.bytes;
    this.#buffers--;
    this.destroyLater(b.buffer);
  }

  stats(): PoolStats {
    return { heldBytes: this.#held, freeBytes: this.#freeBytes, buffers: this.#buffers, freeBuffers: this.#freeCount };
  }
}

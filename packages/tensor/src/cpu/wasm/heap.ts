// The kernels' WebAssembly.Memory and a first-fit allocator over it. One memory serves the calling thread
// and every worker: it is shared (SharedArrayBuffer-backed) where the engine allows, so a worker's instance
// reads and writes the same bytes without copies.
import { InternalError, OutOfMemoryError } from "../../errors.ts";

/** Blocks are 64-byte aligned: a cache line, and more than any SIMD access needs. */
const ALIGN = 64;
const PAGE = 65536;
/** Bytes below this are never handed out, so address 0 is never a valid buffer. */
const RESERVED = ALIGN;

interface FreeBlock {
  start: number;
  size: number;
}

export class WasmHeap {
  readonly memory: WebAssembly.Memory;
  readonly shared: boolean;
  readonly maximumPages: number;
  /** Sorted by start, never adjacent (release coalesces). */
  private readonly freeBlocks: FreeBlock[] = [];
  private readonly sizes = new Map<number, number>();
  /** Every buffer object memory.buffer has returned: a grow hands out a new one over the same bytes. */
  private readonly buffers = new WeakSet<object>();
  private buffer: ArrayBufferLike;
  private f32View: Float32Array;

  constructor(shared: boolean) {
    const { memory, maximumPages } = createMemory(shared);
    this.memory = memory;
    this.shared = shared;
    this.maximumPages = maximumPages;
    this.buffer = memory.buffer;
    this.buffers.add(this.buffer);
    this.f32View = new Float32Array(this.buffer);
    this.freeBlocks.push({
      start: RESERVED,
      size: this.buffer.byteLength - RESERVED,
    });
  }

  /** A Float32Array over the whole memory, re-derived after the memory grew. */
  get f32(): Float32Array {
    const current = this.memory.buffer;
    if (current !== this.buffer) {
      // A grow replaced the buffer object: non-shared buffers are detached, shared ones keep the old length.
      this.buffer = current;
      this.buffers.add(current);
      this.f32View = new Float32Array(current);
    }
    return this.f32View;
  }

  /** True when `buffer` is (a past or present buffer object of) this memory, so a view needs no copy. */
  owns(buffer: ArrayBufferLike): boolean {
    if (this.buffers.has(buffer)) return true;
    void this.f32; // the memory may have grown since the last look
    return this.buffers.has(buffer);
  }

  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /** Bytes currently handed out (for tests and leak checks). */
  get allocatedBytes(): number {
    let total = 0;
    for (const size of this.sizes.values()) total += size;
    return total;
  }

  /** Returns the byte address of a fresh block of at least `bytes` bytes, growing the memory if needed. */
  alloc(bytes: number): number {
    return this.allocBlock(bytes, true);
  }

  /** Like alloc, but returns 0 instead of growing the memory when no free block is large enough. */
  tryAlloc(bytes: number): number {
    return this.allocBlock(bytes, false);
  }

  /** Bytes of the block at `ptr` (its request rounded up to the alignment). */
  blockSize(ptr: number): number | undefined {
    return this.sizes.get(ptr);
  }

  private allocBlock(bytes: number, grow: boolean): number {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    let index = this.freeBlocks.findIndex((b) => b.size >= size);
    if (index < 0) {
      if (!grow) return 0;
      this.grow(size);
      index = this.freeBlocks.findIndex((b) => b.size >= size);
      if (index < 0) {
        throw new OutOfMemoryError(`wasm heap: cannot allocate ${bytes} bytes`);
      }
    }
    const block = this.freeBlocks[index]!;
    const ptr = block.start;
    if (block.size === size) this.freeBlocks.splice(index, 1);
    else {
      block.start += size;
      block.size -= size;
    }
    this.sizes.set(ptr, size);
    return ptr;
  }

  release(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) {
      throw new InternalError(
        `wasm heap: release of unknown or already released block ${ptr}`,
      );
    }
    this.sizes.delete(ptr);
    this.insertFree(ptr, size);
  }

  private insertFree(start: number, size: number): void {
    const blocks = this.freeBlocks;
    let i = 0;
    while (i < blocks.length && blocks[i]!.start < start) i++;
    const prev = blocks[i - 1];
    const next = blocks[i];
    if (prev && prev.start + prev.size === start) {
      prev.size += size;
      if (next && prev.start + prev.size === next.start) {
        prev.size += next.size;
        blocks.splice(i, 1);
      }
    } else if (next && start + size === next.start) {
      next.start = start;
      next.size += size;
    } else {
      blocks.splice(i, 0, { start, size });
    }
  }

  private grow(minBytes: number): void {
    const oldBytes = this.memory.buffer.byteLength;
    const last = this.freeBlocks[this.freeBlocks.length - 1];
    const tailFree = last && last.start + last.size === oldBytes
      ? last.size
      : 0;
    const neededPages = Math.ceil((minBytes - tailFree) / PAGE);
    const currentPages = oldBytes / PAGE;
    // Grow by at least a quarter so a run of growing allocations does not grow page by page.
    const pages = Math.min(
      Math.max(neededPages, Math.ceil(currentPages / 4)),
      this.maximumPages - currentPages,
    );
    if (pages < neededPages) {
      throw new OutOfMemoryError(
        `wasm heap: out of memory (${minBytes} bytes requested, ${oldBytes} in use of ${
          this.maximumPages * PAGE
        })`,
      );
    }
    this.memory.grow(pages);
    this.insertFree(oldBytes, pages * PAGE);
    void this.f32;
  }
}

function createMemory(
  shared: boolean,
): { memory: WebAssembly.Memory; maximumPages: number } {
  // The largest 32-bit memory first; engines with little address space (32-bit browsers) refuse it.
  let lastError: unknown;
  for (const maximumPages of [65536, 16384, 4096]) {
    try {
      return {
        memory: new WebAssembly.Memory({
          initial: 16,
          maximum: maximumPages,
          shared,
        }),
        maximumPages,
      };
    } catch (e) {
      lastError = e;
    }
  }
  throw lastError;
}

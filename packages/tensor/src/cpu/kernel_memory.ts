// Float32, int32 and bool storages of the CPU backend live inside the WebAssembly kernels' memory where that
// memory is shared
// (Deno, Node, cross-origin-isolated pages), so GEMM, the convolutions and the elementwise kernels work on
// them in place: no copy in, no copy out. A shared memory never moves or detaches when it grows, so a
// storage's Float32Array view stays valid for the storage's whole life. Elsewhere (no shared memory, no SIMD,
// or the budget below used up) storages are ordinary typed arrays and the kernels fall back to loops.
import { wasmFeatures } from "./wasm/features.ts";
import { wasmRuntime } from "./wasm/runtime.ts";
import type { WasmHeap } from "./wasm/heap.ts";

/**
 * Storages smaller than this stay ordinary arrays: scalars and per-channel vectors are many and tiny, the
 * kernels stage them when they need them, and keeping them out spares the allocator most of its traffic.
 */
export const KERNEL_MEMORY_MIN_ELEMENTS = 64;
/**
 * Most bytes of storages kept in kernel memory at once (the memory is 32-bit: 4 GiB for everything,
 * scratch included). Beyond it new storages are ordinary arrays, which the garbage collector can see.
 */
const STORAGE_BUDGET = 2 ** 31;
/**
 * Released blocks wait in per-size lists for the next storage of the same size: a training step allocates
 * the same sizes every step, so after the first step every allocation is a list pop. Bounded, and flushed
 * back to the heap before the memory would have to grow.
 */
const CACHE_BUDGET = 2 ** 28;

let heap: WasmHeap | null | undefined;
let storageBytes = 0;
let cachedBytes = 0;
const cache = new Map<number, number[]>();

/** Returns the block of a storage that was never released to the heap (collected without dispose). */
const collector = new FinalizationRegistry<number>((ptr) => freeBlock(ptr));

function kernelHeap(): WasmHeap | null {
  if (heap !== undefined) return heap;
  try {
    const f = wasmFeatures();
    heap = f.simd && f.sharedMemory ? wasmRuntime().heap : null;
  } catch {
    heap = null;
  }
  return heap;
}

/** Whether float32 storages can live in kernel memory here (cached after the first call). */
export function kernelMemoryAvailable(): boolean {
  return kernelHeap() !== null;
}

function takeBlock(h: WasmHeap, bytes: number): number {
  const list = cache.get(bytes);
  if (list && list.length) {
    cachedBytes -= bytes;
    return list.pop()!;
  }
  let ptr = h.tryAlloc(bytes);
  if (ptr) return ptr;
  // Before the memory grows, give the cached blocks back so they can coalesce and serve this request.
  flushCache(h);
  ptr = h.tryAlloc(bytes);
  if (ptr) return ptr;
  try {
    return h.alloc(bytes);
  } catch {
    return 0; // the memory cannot grow further: the caller makes an ordinary array
  }
}

function flushCache(h: WasmHeap): void {
  for (const list of cache.values()) for (const ptr of list) h.release(ptr);
  cache.clear();
  cachedBytes = 0;
}

/** The typed arrays that can live in kernel memory (float64 stays an ordinary array: no kernel uses it). */
export type KernelArray = Float32Array | Int32Array | Uint8Array;
type KernelArrayConstructor = Float32ArrayConstructor | Int32ArrayConstructor | Uint8ArrayConstructor;

/**
 * A typed array of `size` elements inside kernel memory and its byte address, or undefined where storages
 * cannot go there (then the caller allocates an ordinary array). The contents are not zeroed.
 */
export function allocInKernelMemory<T extends KernelArray>(
  type: KernelArrayConstructor & { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T },
  size: number,
): { data: T; ptr: number } | undefined {
  if (size < KERNEL_MEMORY_MIN_ELEMENTS) return undefined;
  const h = kernelHeap();
  if (!h) return undefined;
  const bytes = Math.ceil((size * type.BYTES_PER_ELEMENT) / 64) * 64;
  if (storageBytes + bytes > STORAGE_BUDGET) return undefined;
  const ptr = takeBlock(h, bytes);
  if (!ptr) return undefined;
  storageBytes += bytes;
  return { data: new type(h.f32.buffer, ptr, size), ptr };
}

function freeBlock(ptr: number): void {
  const h = heap!;
  const bytes = h.blockSize(ptr)!;
  storageBytes -= bytes;
  if (cachedBytes + bytes > CACHE_BUDGET) {
    h.release(ptr);
    return;
  }
  let list = cache.get(bytes);
  if (!list) cache.set(bytes, (list = []));
  list.push(ptr);
  cachedBytes += bytes;
}

/** Returns the block at `ptr` to the heap if `owner` is collected before `releaseBlock` is called. */
export function adoptBlock(owner: object, ptr: number): void {
  collector.register(owner, ptr, owner);
}

/** Gives back the block of a storage from `allocInKernelMemory` (called once, when the storage is released). */
export function releaseBlock(ptr: number, owner: object): void {
  collector.unregister(owner);
  freeBlock(ptr);
}

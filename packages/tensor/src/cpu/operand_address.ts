// Where a float32 operand sits in the kernels' memory. Storages that live there are used in place; small
// ordinary ones (scalars, per-channel vectors — too small to be worth a heap block) are copied into one of a
// few grow-only staging blocks, which costs nothing next to the big operand they meet.
import type { Storage } from "../backend.ts";
import { wasmRuntime } from "./wasm/runtime.ts";
import { dataOf, ptrOf } from "./storage.ts";

/** Larger ordinary storages are not staged: copying them in would cost what the kernel saves. */
export const STAGE_MAX_ELEMENTS = 1 << 16;

const slots: { ptr: number; bytes: number }[] = [];

/** Byte address of a staging block of at least `bytes`, distinct per slot; valid until the next call for it. */
export function stagingBlock(slot: number, bytes: number): number {
  let s = slots[slot];
  if (!s) slots[slot] = s = { ptr: 0, bytes: 0 };
  if (s.bytes < bytes) {
    const heap = wasmRuntime().heap;
    if (s.ptr) heap.release(s.ptr);
    s.bytes = Math.max(1024, Math.ceil(bytes / 64) * 64);
    s.ptr = heap.alloc(s.bytes);
  }
  return s.ptr;
}

/**
 * Byte address of element 0 of a float32 storage inside kernel memory: the storage itself when it lives
 * there, else a copy in staging slot `slot`; 0 when it is too large to stage.
 */
export function operandAddress(s: Storage, slot: number): number {
  const ptr = ptrOf(s);
  if (ptr) return ptr;
  const data = dataOf(s) as Float32Array;
  if (data.length > STAGE_MAX_ELEMENTS) return 0;
  const at = stagingBlock(slot, data.length * 4);
  wasmRuntime().heap.f32.set(data, at >>> 2);
  return at;
}

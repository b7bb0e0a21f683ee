// The allocator behind wasmAlloc: blocks never overlap, freed space is reused and coalesced, the memory
// grows on demand, and views survive a grow.
import fc from "fast-check";
import { expect, test } from "vitest";
import { WasmHeap } from "../src/cpu/wasm/heap.ts";

test("random alloc/free sequences never overlap and coalesce back to one free block", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 300_000 })), {
        minLength: 1,
        maxLength: 60,
      }),
      (ops) => {
        const heap = new WasmHeap(true);
        const live = new Map<number, number>();
        for (const [doAlloc, bytes] of ops) {
          if (doAlloc || live.size === 0) {
            const ptr = heap.alloc(bytes);
            expect(ptr % 64).toBe(0);
            expect(ptr + bytes).toBeLessThanOrEqual(heap.byteLength);
            for (const [p, b] of live) {
              expect(ptr + bytes <= p || p + b <= ptr || bytes === 0 || b === 0)
                .toBe(true);
            }
            live.set(ptr, bytes);
            // Mark the block so a later overlap would show as a wrong value.
            heap.f32.fill(ptr, ptr / 4, (ptr + bytes) / 4 | 0);
          } else {
            const [ptr] = live.keys();
            const bytes = live.get(ptr!)!;
            const view = heap.f32.subarray(ptr! / 4, (ptr! + bytes) / 4 | 0);
            expect(view.every((v) => v === ptr)).toBe(true);
            heap.release(ptr!);
            live.delete(ptr!);
          }
        }
        for (const ptr of [...live.keys()]) heap.release(ptr);
        expect(heap.allocatedBytes).toBe(0);
        // Everything is free again: one block spans the whole heap, so the largest request fits without a grow.
        const size = heap.byteLength;
        heap.alloc(size - 64);
        expect(heap.byteLength).toBe(size);
      },
    ),
    { numRuns: 20 },
  );
});

test("growing keeps contents and recognises old and new buffer objects", () => {
  const heap = new WasmHeap(true);
  const p = heap.alloc(16);
  heap.f32[p / 4] = 42;
  const oldBuffer = heap.f32.buffer;
  heap.alloc(4 * 1024 * 1024);
  expect(heap.f32.buffer).not.toBe(oldBuffer);
  expect(heap.f32[p / 4]).toBe(42);
  expect(heap.owns(oldBuffer)).toBe(true);
  expect(heap.owns(heap.f32.buffer)).toBe(true);
  expect(heap.owns(new ArrayBuffer(8))).toBe(false);
});

test("double release is an error", () => {
  const heap = new WasmHeap(false);
  const p = heap.alloc(100);
  heap.release(p);
  expect(() => heap.release(p)).toThrow(/already released/);
});

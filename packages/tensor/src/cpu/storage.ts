import type { Backend, Storage } from "../backend.ts";
import { allocTyped, bytesPerElement, type DType, type TypedArray } from "../dtype.ts";

/** CPU memory: a typed array of the storage's dtype. */
export class CpuStorage implements Storage {
  refs = 0;
  constructor(readonly backend: Backend, readonly dtype: DType, readonly data: TypedArray) {}
  get size(): number {
    return this.data.length;
  }
  get bytes(): number {
    return this.data.length * bytesPerElement(this.dtype);
  }
}

/** The typed array behind a storage made by the CPU backend. */
export function dataOf(s: Storage): TypedArray {
  return (s as CpuStorage).data;
}

export function newTyped(dtype: DType, size: number): TypedArray {
  return allocTyped(dtype, size);
}

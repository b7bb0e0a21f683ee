/** Element types. `bool` is stored as one byte per element (0 or 1). */
export type DType = "float32" | "float64" | "int32" | "bool";

/** The typed arrays values are read into: one per dtype (Uint8Array for bool). */
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/** Every dtype. */
export const DTYPES: readonly DType[] = ["float32", "float64", "int32", "bool"];

/** Whether `dtype` is float32 or float64. */
export function isFloat(dtype: DType): boolean {
  return dtype === "float32" || dtype === "float64";
}

export function bytesPerElement(dtype: DType): number {
  switch (dtype) {
    case "float64":
      return 8;
    case "float32":
    case "int32":
      return 4;
    case "bool":
      return 1;
  }
}

/** A new zero-filled typed array of the right kind for `dtype`. */
export function allocTyped(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case "float32":
      return new Float32Array(size);
    case "float64":
      return new Float64Array(size);
    case "int32":
      return new Int32Array(size);
    case "bool":
      return new Uint8Array(size);
  }
}

/** The dtype a typed array holds by default (Uint8Array reads as bool). */
export function dtypeOfTyped(data: TypedArray): DType {
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Float64Array) return "float64";
  if (data instanceof Int32Array) return "int32";
  return "bool";
}

const RANK: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

/** Type promotion of two array operands, as PyTorch does for these four dtypes. */
export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/**
 * Promotion of an array with a plain JS number ("weak" scalar, like PyTorch's Python scalars):
 * the array's dtype wins unless the number needs a float and the array is integral/bool.
 */
export function promoteWithScalar(a: DType, value: number | boolean): DType {
  if (typeof value === "boolean") return a;
  if (isFloat(a)) return a;
  if (!Number.isInteger(value)) return "float32";
  return a === "bool" ? "int32" : a;
}

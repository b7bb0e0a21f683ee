import type { DType } from "@backprop/tensor";

/** Safetensors dtype names for the library's dtypes, and their sizes in bytes. */
export const SAFETENSORS_DTYPE: Record<DType, { name: string; bytes: number }> = {
  float64: { name: "F64", bytes: 8 },
  float32: { name: "F32", bytes: 4 },
  int32: { name: "I32", bytes: 4 },
  bool: { name: "BOOL", bytes: 1 },
};

/** Every dtype the reader accepts: element size and the library dtype it becomes (integers widen to int32). */
export const READABLE_DTYPES: Record<string, { bytes: number; dtype: DType }> = {
  F64: { bytes: 8, dtype: "float64" },
  F32: { bytes: 4, dtype: "float32" },
  F16: { bytes: 2, dtype: "float32" },
  BF16: { bytes: 2, dtype: "float32" },
  I64: { bytes: 8, dtype: "int32" },
  I32: { bytes: 4, dtype: "int32" },
  I16: { bytes: 2, dtype: "int32" },
  I8: { bytes: 1, dtype: "int32" },
  U8: { bytes: 1, dtype: "int32" },
  BOOL: { bytes: 1, dtype: "bool" },
};

/** Headers larger than this are refused (the reference implementation's limit), so a corrupt length cannot exhaust memory. */
export const MAX_HEADER_BYTES = 100_000_000;

/** The byte order of typed arrays on this machine; the format is little-endian. */
export const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The `__metadata__` key of the checksums `encodeSafetensors` writes: a JSON object (as a string, since metadata
 * values are strings) from each tensor name to the CRC-32C of its data bytes, as 8 hex digits, and from
 * `"__metadata__"` to the CRC-32C of the other metadata entries (see `metadataBytes`).
 */
export const CHECKSUM_KEY = "crc32c";

/** The bytes the metadata checksum covers: the other entries as JSON with sorted keys. */
export function metadataBytes(metadata: Record<string, string>): Uint8Array {
  const sorted = Object.keys(metadata).filter((k) => k !== CHECKSUM_KEY).sort().map((k) => [k, metadata[k]]);
  return new TextEncoder().encode(JSON.stringify(sorted));
}

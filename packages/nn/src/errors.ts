import { BackpropError } from "@backprop/tensor";

/** A key whose array has a different shape in the state dict than in the module. */
export interface ShapeMismatch {
  key: string;
  expected: readonly number[];
  found: readonly number[];
}

/**
 * `loadStateDict` found keys the module lacks, lacked keys the module has, or shapes that differ. Nothing was
 * loaded: the module is unchanged. The lists are there for programs that want to report or repair them.
 */
export class StateDictError extends BackpropError {
  constructor(
    message: string,
    readonly missingKeys: readonly string[],
    readonly unexpectedKeys: readonly string[],
    readonly mismatchedShapes: readonly ShapeMismatch[],
  ) {
    super(message);
  }
}

/**
 * A module defined or used against `Module`'s contract: no `forward`, or modules or parameters kept in a plain
 * array (where `parameters()`, `stateDict()` and `train()` cannot find them) instead of a `ModuleList`.
 */
export class ModuleError extends BackpropError {}

/**
 * Bytes that are not a valid safetensors file (truncated, corrupt header, overlapping data, unknown dtype), or a
 * safetensors file that cannot be read or written (the runtime's error is the `cause`).
 */
export class SafetensorsError extends BackpropError {}

/**
 * A safetensors file whose tensor data (or metadata) does not match the CRC-32C recorded in it: the bytes changed
 * after they were written (disk or copy fault, a stray edit). Names the file, the tensor (`"__metadata__"` for the
 * metadata) and both checksums.
 */
export class ChecksumError extends SafetensorsError {
  constructor(
    readonly source: string,
    readonly tensor: string,
    readonly expected: string,
    readonly found: string,
  ) {
    super(
      `${source}: ${tensor === "__metadata__" ? "the metadata" : `tensor "${tensor}"`} fails its checksum: CRC-32C ${expected} ` +
        `recorded, ${found} found; the file is corrupt (restore it from a copy)`,
    );
  }
}

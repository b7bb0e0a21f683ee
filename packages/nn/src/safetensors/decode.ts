import { type DType, type NDArray, tensor, type TypedArray } from "@backprop/tensor";
import { ChecksumError, SafetensorsError } from "../errors.ts";
import { fmtShape } from "../util.ts";
import { crc32cHex } from "./crc32c.ts";
import { CHECKSUM_KEY, LITTLE_ENDIAN_HOST, MAX_HEADER_BYTES, metadataBytes, READABLE_DTYPES } from "./format.ts";

/** What a safetensors file holds. */
export interface SafetensorsContents {
  tensors: Record<string, NDArray>;
  /** The `__metadata__` string map (empty when the file has none), without the checksums' entry. */
  metadata: Record<string, string>;
  /**
   * `"verified"`: the file carries checksums and every tensor and the metadata match them; `"absent"`: it carries
   * none (written by another program or an older version), so nothing could be checked; `"skipped"`: not checked
   * (`verify: false`).
   */
  checksum: "verified" | "absent" | "skipped";
}

export interface DecodeOptions {
  /** The file name that error messages give (default "safetensors data"). */
  source?: string;
  /** Check the CRC-32C checksums when the file has them (default true). */
  verify?: boolean;
}

/** The recorded checksums: tensor name (or "__metadata__") to 8 hex digits. */
function parseChecksums(raw: string, fail: (msg: string) => never): Record<string, string> {
  let sums: unknown;
  try {
    sums = JSON.parse(raw);
  } catch {
    fail(`metadata "${CHECKSUM_KEY}" is not JSON (corrupt file?)`);
  }
  if (typeof sums !== "object" || sums === null || Array.isArray(sums)) fail(`metadata "${CHECKSUM_KEY}" is not a JSON object (corrupt file?)`);
  for (const [k, v] of Object.entries(sums as Record<string, unknown>)) {
    if (typeof v !== "string" || !/^[0-9a-f]{8}$/.test(v)) fail(`metadata "${CHECKSUM_KEY}" holds ${JSON.stringify(v)} for "${k}", not 8 hex digits (corrupt file?)`);
  }
  return sums as Record<string, string>;
}

interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** The values of one tensor's bytes as a typed array of the library dtype it becomes. */
function convert(e: Entry, bytes: Uint8Array, fail: (msg: string) => never): { data: TypedArray; dtype: DType } {
  const { bytes: width, dtype } = READABLE_DTYPES[e.dtype]!;
  const n = bytes.length / width;
  // A fresh, aligned copy: the typed array may not view the input at an arbitrary offset.
  const copy = bytes.slice();
  if (LITTLE_ENDIAN_HOST) {
    if (e.dtype === "F32") return { data: new Float32Array(copy.buffer), dtype };
    if (e.dtype === "F64") return { data: new Float64Array(copy.buffer), dtype };
    if (e.dtype === "I32") return { data: new Int32Array(copy.buffer), dtype };
  }
  const view = new DataView(copy.buffer);
  switch (e.dtype) {
    case "F32": case "F16": case "BF16": {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        out[i] = e.dtype === "F32" ? view.getFloat32(4 * i, true)
          : e.dtype === "F16" ? halfToFloat(view.getUint16(2 * i, true))
          : new Float32Array(new Uint32Array([view.getUint16(2 * i, true) << 16]).buffer)[0]!;
      }
      return { data: out, dtype };
    }
    case "F64": {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true);
      return { data: out, dtype };
    }
    case "BOOL": {
      for (let i = 0; i < n; i++) if (copy[i]! > 1) copy[i] = 1;
      return { data: copy, dtype };
    }
    default: {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = e.dtype === "I64" ? Number(view.getBigInt64(8 * i, true))
          : e.dtype === "I32" ? view.getInt32(4 * i, true)
          : e.dtype === "I16" ? view.getInt16(2 * i, true)
          : e.dtype === "I8" ? view.getInt8(i)
          : view.getUint8(i);
        if (v < -2147483648 || v > 2147483647) {
          fail(`tensor "${e.name}" (${e.dtype}) holds ${v}, which does not fit int32`);
        }
        out[i] = v;
      }
      return { data: out, dtype };
    }
  }
}

/**
 * Reads a safetensors file's bytes (see `encodeSafetensors`) into CPU arrays. F32, F64, I32 and BOOL load as
 * float32, float64, int32 and bool; F16/BF16 widen to float32 and I64/I16/I8/U8 to int32 (values outside
 * int32 are an error). Anything malformed — truncated data, a corrupt or oversized header, byte ranges that
 * overlap, leave gaps or do not match the shape — is a `SafetensorsError` naming `source` (a file name) and
 * the problem. When the file carries checksums (see `encodeSafetensors`), each tensor's data and the metadata are
 * checked against them first; a mismatch is a `ChecksumError` naming the file and the tensor.
 */
export function decodeSafetensors(bytes: Uint8Array, options: DecodeOptions = {}): SafetensorsContents {
  const where = options.source ?? "safetensors data";
  const fail = (msg: string): never => {
    throw new SafetensorsError(`${where}: ${msg}`);
  };
  if (bytes.length < 8) fail(`truncated: ${bytes.length} bytes, fewer than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) fail(`the header length ${headerLength} exceeds ${MAX_HEADER_BYTES} bytes (corrupt file?)`);
  const n = Number(headerLength);
  if (8 + n > bytes.length) fail(`truncated: the header needs ${n} bytes, only ${bytes.length - 8} follow the length`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    fail(`the header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) fail("the header is not a JSON object");
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail(`"__metadata__" is not an object`);
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== "string") fail(`metadata "${k}" is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (typeof info !== "object" || info === null) fail(`tensor "${name}" has no dtype/shape/data_offsets object`);
    const { dtype, shape, data_offsets: offsets } = info!;
    if (typeof dtype !== "string" || !(dtype in READABLE_DTYPES)) {
      fail(`tensor "${name}" has dtype ${JSON.stringify(dtype)}; readable: ${Object.keys(READABLE_DTYPES).join(", ")}`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`);
    }
    if (
      !Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      offsets[0] > offsets[1]
    ) {
      fail(`tensor "${name}" has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const e: Entry = { name, dtype: dtype as string, shape: shape as number[], begin: (offsets as number[])[0]!, end: (offsets as number[])[1]! };
    const expected = e.shape.reduce((a, d) => a * d, 1) * READABLE_DTYPES[e.dtype]!.bytes;
    if (e.end - e.begin !== expected) {
      fail(`tensor "${name}" (${e.dtype} ${fmtShape(e.shape)}) needs ${expected} bytes, its data_offsets span ${e.end - e.begin}`);
    }
    entries.push(e);
  }
  const bodyLength = bytes.length - 8 - n;
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of sorted) {
    if (e.begin < at) fail(`tensor "${e.name}" overlaps the tensor before it (bytes ${e.begin}–${e.end})`);
    if (e.begin > at) fail(`a gap of ${e.begin - at} bytes precedes tensor "${e.name}"`);
    at = e.end;
  }
  if (at > bodyLength) fail(`truncated: the header describes ${at} bytes of tensor data, the file holds ${bodyLength}`);
  if (at < bodyLength) fail(`${bodyLength - at} bytes follow the last tensor's data (corrupt file?)`);
  const body = bytes.subarray(8 + n);
  let checksum: SafetensorsContents["checksum"] = "absent";
  const recorded = metadata[CHECKSUM_KEY];
  if (recorded !== undefined) {
    delete metadata[CHECKSUM_KEY];
    if (options.verify === false) {
      checksum = "skipped";
    } else {
      const sums = parseChecksums(recorded, fail);
      const listed = new Set(Object.keys(sums));
      const check = (name: string, data: Uint8Array) => {
        const expected = sums[name];
        if (expected === undefined) fail(`${name === "__metadata__" ? "the metadata" : `tensor "${name}"`} has no checksum in "${CHECKSUM_KEY}" (corrupt file?)`);
        const found = crc32cHex(data);
        if (found !== expected) throw new ChecksumError(where, name, expected!, found);
        listed.delete(name);
      };
      check("__metadata__", metadataBytes(metadata));
      for (const e of sorted) check(e.name, body.subarray(e.begin, e.end));
      if (listed.size) fail(`"${CHECKSUM_KEY}" lists ${[...listed].map((k) => `"${k}"`).join(", ")}, which the file does not hold (corrupt file?)`);
      checksum = "verified";
    }
  }
  const tensors: Record<string, NDArray> = {};
  for (const e of entries) {
    const { data, dtype } = convert(e, body.subarray(e.begin, e.end), fail);
    tensors[e.name] = tensor(data, { shape: e.shape, dtype });
  }
  return { tensors, metadata, checksum };
}

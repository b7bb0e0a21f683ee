import type { NDArray, TypedArray } from "@backprop/tensor";
import { SafetensorsError } from "../errors.ts";
import { crc32cHex } from "./crc32c.ts";
import { CHECKSUM_KEY, LITTLE_ENDIAN_HOST, metadataBytes, SAFETENSORS_DTYPE } from "./format.ts";

export interface EncodeOptions {
  /**
   * Store the CRC-32C of every tensor's data and of the metadata in `__metadata__["crc32c"]`, which
   * `decodeSafetensors` verifies (default true). Other readers (PyTorch, the safetensors library) ignore it.
   */
  checksum?: boolean;
}

/** Little-endian bytes of a typed array (a view when the host is little-endian). */
function leBytes(data: TypedArray): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN_HOST || data.BYTES_PER_ELEMENT === 1) return bytes;
  const out = new Uint8Array(bytes.length);
  const w = data.BYTES_PER_ELEMENT;
  for (let i = 0; i < bytes.length; i += w) for (let k = 0; k < w; k++) out[i + k] = bytes[i + w - 1 - k]!;
  return out;
}

/**
 * Serialises arrays in the safetensors format (https://github.com/huggingface/safetensors): an 8-byte
 * little-endian header length, a JSON header (`__metadata__` string map, then per name its dtype, shape and byte
 * range), padded with spaces to a multiple of 8 bytes, then the raw little-endian data. Tensors are laid out by
 * element size (largest first) and then name, so every tensor starts at an offset aligned to its element size,
 * as the reference writer does; header keys are sorted. Arrays must be readable synchronously (on the CPU).
 * Unless `options.checksum` is false, the metadata also carries a CRC-32C of each tensor and of the metadata.
 */
export function encodeSafetensors(
  tensors: Record<string, NDArray>,
  metadata?: Record<string, string>,
  options: EncodeOptions = {},
): Uint8Array {
  const checksum = options.checksum ?? true;
  const names = Object.keys(tensors).sort();
  for (const name of names) {
    if (name === "__metadata__") throw new SafetensorsError(`encodeSafetensors: "__metadata__" cannot name a tensor`);
    const a = tensors[name]!;
    if (!a.backend.readSync) {
      throw new SafetensorsError(
        `encodeSafetensors: "${name}" is on ${a.device}; move it to the CPU first (await a.toAsync("cpu"))`,
      );
    }
  }
  if (metadata) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string") throw new SafetensorsError(`encodeSafetensors: metadata "${k}" must be a string, got ${typeof v}`);
    }
    if (checksum && CHECKSUM_KEY in metadata) {
      throw new SafetensorsError(`encodeSafetensors: metadata "${CHECKSUM_KEY}" is where the checksums go; rename it or pass { checksum: false }`);
    }
  }
  const order = [...names].sort((a, b) => {
    const d = SAFETENSORS_DTYPE[tensors[b]!.dtype].bytes - SAFETENSORS_DTYPE[tensors[a]!.dtype].bytes;
    return d !== 0 ? d : a < b ? -1 : a > b ? 1 : 0;
  });
  const chunks: Uint8Array[] = [];
  const ranges = new Map<string, [number, number]>();
  let offset = 0;
  for (const name of order) {
    const bytes = leBytes(tensors[name]!.dataSync());
    chunks.push(bytes);
    ranges.set(name, [offset, offset + bytes.length]);
    offset += bytes.length;
  }
  const meta: Record<string, string> = { ...metadata };
  if (checksum) {
    const sums: Record<string, string> = { __metadata__: crc32cHex(metadataBytes(meta)) };
    order.forEach((name, i) => (sums[name] = crc32cHex(chunks[i]!)));
    meta[CHECKSUM_KEY] = JSON.stringify(sums);
  }
  const header: Record<string, unknown> = {};
  if (Object.keys(meta).length) header.__metadata__ = Object.fromEntries(Object.keys(meta).sort().map((k) => [k, meta[k]]));
  for (const name of names) {
    const a = tensors[name]!;
    header[name] = { dtype: SAFETENSORS_DTYPE[a.dtype].name, shape: [...a.shape], data_offsets: ranges.get(name) };
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil((8 + json.length) / 8) * 8 - 8;
  if (padded !== json.length) {
    const withSpaces = new Uint8Array(padded).fill(0x20);
    withSpaces.set(json);
    json = withSpaces;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

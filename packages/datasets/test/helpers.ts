/** Shared test helpers: where the shared data lives, temp folders, and fabricated CIFAR files and archives. */
import { mkdtemp, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

/** `<repo root>/../shared/data`, or $BACKPROP_SHARED_DATA. */
export const SHARED_DATA = process.env.BACKPROP_SHARED_DATA ??
  resolve(dirname(fileURLToPath(import.meta.url)), "../../../../shared/data");
export const MINI_ARCHIVE = join(SHARED_DATA, "cifar-10-mini.tar.gz");
export const FULL_FOLDER = join(SHARED_DATA, "cifar-10-batches-bin");
export const HAS_MINI = existsSync(MINI_ARCHIVE);
export const HAS_FULL = existsSync(join(FULL_FOLDER, "data_batch_1.bin"));

/** Prints why a block of tests is skipped (vitest's skip reason is not shown by default). */
export function skipNotice(present: boolean, what: string, path: string): boolean {
  if (!present) console.log(`skipping ${what}: ${path} not found (set BACKPROP_SHARED_DATA to the data folder)`);
  return !present;
}

/** A fresh temp folder, removed by the returned cleanup. */
export async function tempDir(): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), "backprop-datasets-test-"));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/**
 * Fabricated CIFAR records: record r has label `labels[r]` and every pixel of channel c equal to
 * `(r * 7 + c * 50 + pixel) % 256` unless `pixel` is overridden.
 */
export function makeRecords(labels: readonly number[], pixel?: (record: number, byte: number) => number): Uint8Array {
  const out = new Uint8Array(labels.length * 3073);
  labels.forEach((label, r) => {
    out[r * 3073] = label;
    for (let p = 0; p < 3072; p++) {
      out[r * 3073 + 1 + p] = pixel ? pixel(r, p) : (r * 7 + Math.floor(p / 1024) * 50 + p) % 256;
    }
  });
  return out;
}

/** Labels 0,1,…,9,0,1,… */
export function cyclicLabels(count: number, offset = 0): number[] {
  return Array.from({ length: count }, (_, i) => (i + offset) % 10);
}

export interface TarMember {
  name: string;
  data?: Uint8Array | string;
  type?: string;
  /** Override the size written in the header. */
  headerSize?: number;
  /** Write the name through a GNU long-name entry / a pax header instead of the header field. */
  longName?: "gnu" | "pax";
}

const encoder = new TextEncoder();

function header(name: string, size: number, type: string): Uint8Array {
  const block = new Uint8Array(512);
  const put = (text: string, at: number) => block.set(encoder.encode(text), at);
  put(name.slice(0, 100), 0);
  put("0000644\0", 100);
  put("0000000\0", 108);
  put("0000000\0", 116);
  put(size.toString(8).padStart(11, "0") + "\0", 124);
  put("11000000000\0", 136);
  put(type, 156);
  put("ustar\0", 257);
  put("00", 263);
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of block) sum += b;
  put(sum.toString(8).padStart(6, "0") + "\0 ", 148);
  return block;
}

function padded(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(data.length / 512) * 512);
  out.set(data);
  return out;
}

/** A tar archive of `members`, with the two zero blocks at the end unless `endMarker` is false. */
export function makeTar(members: readonly TarMember[], endMarker = true): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const member of members) {
    const data = typeof member.data === "string" ? encoder.encode(member.data) : member.data ?? new Uint8Array(0);
    let name = member.name;
    if (member.longName === "gnu") {
      const longName = encoder.encode(name + "\0");
      parts.push(header("././@LongLink", longName.length, "L"), padded(longName));
      name = "placeholder";
    } else if (member.longName === "pax") {
      const body = (length: number) => `${length} path=${name}\n`;
      let length = body(0).length;
      while (body(length).length !== length) length = body(length).length;
      const record = encoder.encode(body(length));
      parts.push(header("PaxHeader", record.length, "x"), padded(record));
      name = "placeholder";
    }
    parts.push(header(name, member.headerSize ?? data.length, member.type ?? "0"), padded(data));
  }
  if (endMarker) parts.push(new Uint8Array(1024));
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export function gzip(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(gzipSync(bytes));
}

/** The six batch files of a small fabricated data set: `perFile` records each, labels cycling. */
export function fabricatedFiles(perFile = 20): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  for (let i = 1; i <= 5; i++) files[`data_batch_${i}.bin`] = makeRecords(cyclicLabels(perFile, i));
  files["test_batch.bin"] = makeRecords(cyclicLabels(perFile));
  return files;
}

/** A stream delivering `bytes` in chunks of the given sizes (cycled). */
export function chunkedStream(bytes: Uint8Array, sizes: readonly number[]): ReadableStream<Uint8Array> {
  let at = 0;
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) {
        controller.close();
        return;
      }
      const size = Math.max(1, sizes[i++ % sizes.length]);
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}

/** Byte equality without vitest's slow element-by-element diff of large typed arrays. */
export function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

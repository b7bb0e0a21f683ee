/**
 * A streaming tar reader: POSIX ustar headers in 512-byte blocks, plus the two extensions real archives use
 * for long names (GNU `L` entries and pax `x` headers). It never buffers more than one header and the chunk
 * in flight, so a 170 MB archive streams through in constant memory.
 */
import { ByteQueue } from "./byte_queue.ts";
import { DatasetError, errorText } from "./errors.ts";

const BLOCK = 512;

/** What kind of thing an entry is. */
export type TarEntryType = "file" | "directory" | "symlink" | "other";

/** One member of a tar archive. */
export interface TarEntry {
  /** The member's path inside the archive (ustar prefix, GNU long name and pax `path` applied). */
  readonly name: string;
  /** Content length in bytes. */
  readonly size: number;
  readonly type: TarEntryType;
  /** The raw typeflag character ("0", "5", …). */
  readonly typeFlag: string;
  /**
   * The content as a sequence of chunks. Read it before asking for the next entry; whatever is left
   * unread is skipped then. The chunks are views that stay valid after the next read.
   */
  body(): AsyncGenerator<Uint8Array>;
  /** The whole content in one array. */
  bytes(): Promise<Uint8Array>;
}

const decoder = new TextDecoder();

function cString(block: Uint8Array, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return decoder.decode(end === -1 ? field : field.subarray(0, end));
}

/** Parses a numeric header field: octal digits (space/NUL padded) or GNU base-256 for large values. */
function headerNumber(block: Uint8Array, start: number, length: number): number | undefined {
  const field = block.subarray(start, start + length);
  if (field[0] & 0x80) {
    let value = field[0] & 0x7f;
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i];
    return Number.isSafeInteger(value) ? value : undefined;
  }
  const text = decoder.decode(field).replace(/\0.*$/s, "").trim();
  if (!/^[0-7]+$/.test(text)) return text === "" ? 0 : undefined;
  return parseInt(text, 8);
}

function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

function headerChecksum(block: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i];
  return sum;
}

function entryType(flag: string): TarEntryType {
  if (flag === "0" || flag === "\0" || flag === "" || flag === "7") return "file";
  if (flag === "5") return "directory";
  if (flag === "2") return "symlink";
  return "other";
}

/** Parses pax extended-header records ("<len> <key>=<value>\n"). */
function paxRecords(bytes: Uint8Array): Map<string, string> {
  const records = new Map<string, string>();
  const text = decoder.decode(bytes);
  let at = 0;
  while (at < text.length) {
    const space = text.indexOf(" ", at);
    if (space === -1) break;
    const length = parseInt(text.slice(at, space), 10);
    if (!(length > 0)) break;
    const record = text.slice(space + 1, at + length - 1);
    const eq = record.indexOf("=");
    if (eq > 0) records.set(record.slice(0, eq), record.slice(eq + 1));
    at += length;
  }
  return records;
}

/**
 * Reads a tar stream entry by entry.
 *
 * @param stream the uncompressed tar bytes (pipe a `.tar.gz` through `DecompressionStream("gzip")` first).
 * @param source names the archive in error messages.
 * @throws DatasetError for a corrupt header, a truncated archive or a missing end-of-archive marker.
 */
export async function* readTar(
  stream: ReadableStream<Uint8Array>,
  source = "tar archive",
): AsyncGenerator<TarEntry> {
  const queue = new ByteQueue(stream);
  let longName: string | undefined;
  let pax = new Map<string, string>();
  const fail = (message: string, details: { expected?: string; found?: string; cause?: unknown } = {}) =>
    new DatasetError(`${source}: ${message}`, { file: source, ...details });
  try {
    for (;;) {
      const headerOffset = queue.offset;
      let header: Uint8Array;
      try {
        header = await queue.read(BLOCK);
      } catch (cause) {
        if (cause instanceof DatasetError) throw cause;
        throw fail(`cannot read the archive at byte ${headerOffset} (${errorText(cause)})`, { cause });
      }
      if (header.length < BLOCK) {
        throw fail(
          `archive ends at byte ${headerOffset + header.length} without an end-of-archive marker — ` +
            "the file is truncated",
          { expected: "a 512-byte header or end-of-archive block", found: `${header.length} bytes` },
        );
      }
      if (isZeroBlock(header)) return;
      const stored = headerNumber(header, 148, 8);
      const computed = headerChecksum(header);
      if (stored !== computed) {
        throw fail(
          `header at byte ${headerOffset} has checksum ${stored ?? "(unreadable)"} but its bytes sum to ` +
            `${computed} — the archive is corrupt or not a tar file`,
          { expected: `checksum ${computed}`, found: `${stored}` },
        );
      }
      const size = headerNumber(header, 124, 12);
      if (size === undefined) {
        throw fail(`header at byte ${headerOffset} has an unreadable size field`, {
          expected: "an octal number",
          found: JSON.stringify(cString(header, 124, 12)),
        });
      }
      const typeFlag = String.fromCharCode(header[156]);
      let name = cString(header, 0, 100);
      if (cString(header, 257, 6) === "ustar") {
        const prefix = cString(header, 345, 155);
        if (prefix) name = `${prefix}/${name}`;
      }

      const readBody = async (): Promise<Uint8Array> => {
        const out = new Uint8Array(size);
        let filled = 0;
        for await (const chunk of queue.chunks(size)) {
          out.set(chunk, filled);
          filled += chunk.length;
        }
        if (filled < size) throw truncatedEntry(name, size, filled);
        await queue.skip(padding(size));
        return out;
      };
      const truncatedEntry = (entryName: string, expected: number, found: number) =>
        fail(
          `archive ends inside ${entryName}: expected ${expected} bytes, got ${found} — the file is truncated`,
          { expected: `${expected} bytes`, found: `${found} bytes` },
        );

      if (typeFlag === "L" || typeFlag === "x" || typeFlag === "g") {
        const meta = await guarded(readBody, fail, name);
        if (typeFlag === "L") longName = cString(meta, 0, meta.length);
        else if (typeFlag === "x") pax = paxRecords(meta);
        continue;
      }
      if (longName !== undefined) name = longName;
      if (pax.has("path")) name = pax.get("path")!;
      let entrySize = size;
      if (pax.has("size")) entrySize = Number(pax.get("size"));
      longName = undefined;
      pax = new Map();

      let remaining = entrySize;
      const entryName = name;
      const body = async function* (): AsyncGenerator<Uint8Array> {
        while (remaining > 0) {
          let got = 0;
          try {
            for await (const chunk of queue.chunks(remaining)) {
              remaining -= chunk.length;
              got += chunk.length;
              yield chunk;
            }
          } catch (cause) {
            if (cause instanceof DatasetError) throw cause;
            throw fail(`cannot read ${entryName} (${errorText(cause)})`, { cause });
          }
          if (got === 0 && remaining > 0) {
            throw truncatedEntry(entryName, entrySize, entrySize - remaining);
          }
        }
      };
      const entry: TarEntry = {
        name,
        size: entrySize,
        type: entryType(typeFlag),
        typeFlag,
        body,
        async bytes() {
          const out = new Uint8Array(remaining);
          let filled = 0;
          for await (const chunk of body()) {
            out.set(chunk, filled);
            filled += chunk.length;
          }
          return out;
        },
      };
      yield entry;

      // Skip what the consumer left unread, then the padding to the next block boundary.
      try {
        const left = remaining;
        const skipped = await queue.skip(left);
        remaining -= skipped;
        if (skipped < left) throw truncatedEntry(entryName, entrySize, entrySize - remaining);
        await queue.skip(padding(entrySize));
      } catch (cause) {
        if (cause instanceof DatasetError) throw cause;
        throw fail(`cannot read ${entryName} (${errorText(cause)})`, { cause });
      }
    }
  } finally {
    await queue.cancel();
  }
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

async function guarded<T>(
  read: () => Promise<T>,
  fail: (message: string, details: { cause?: unknown }) => DatasetError,
  name: string,
): Promise<T> {
  try {
    return await read();
  } catch (cause) {
    if (cause instanceof DatasetError) throw cause;
    throw fail(`cannot read ${name} (${errorText(cause)})`, { cause });
  }
}

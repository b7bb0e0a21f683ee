import type { NDArray } from "@backprop/tensor";
import { SafetensorsError } from "../errors.ts";
import { decodeSafetensors, type SafetensorsContents } from "./decode.ts";
import { type EncodeOptions, encodeSafetensors } from "./encode.ts";

/** An open file, as far as these helpers use it. */
interface DenoFile {
  write(data: Uint8Array): Promise<number>;
  sync(): Promise<void>;
  close(): void;
}

/** The part of Deno's file API these helpers use (library packages do not import `node:` modules). */
interface DenoFiles {
  open(path: string, options: { read?: boolean; write?: boolean; createNew?: boolean }): Promise<DenoFile>;
  readFile(path: string): Promise<Uint8Array>;
  rename(from: string, to: string): Promise<void>;
  remove(path: string): Promise<void>;
  pid: number;
}

function deno(op: string): DenoFiles {
  const d = (globalThis as { Deno?: DenoFiles }).Deno;
  if (!d) {
    throw new SafetensorsError(
      `${op}: file access needs Deno; elsewhere write the bytes of encodeSafetensors() / read them for decodeSafetensors() yourself`,
    );
  }
  return d;
}

/** The folder of `path` ("." for a bare name). */
function folderOf(path: string): string {
  const cut = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return cut < 0 ? "." : cut === 0 ? path.slice(0, 1) : path.slice(0, cut);
}

/**
 * Writes arrays (and string metadata) to a safetensors file atomically and durably: the bytes go to a new
 * temporary file next to `path` (`<path>.<pid>.<time>.tmp`, created exclusively, with the umask's mode), which is
 * flushed to disk, renamed over `path`, and the folder flushed too, so neither a crash nor a power cut leaves a
 * half-written or lost file. Checksums are stored unless `options.checksum` is false. Deno only.
 */
export async function saveSafetensorsFile(
  path: string,
  tensors: Record<string, NDArray>,
  metadata?: Record<string, string>,
  options: EncodeOptions = {},
): Promise<void> {
  const fs = deno("saveSafetensorsFile");
  const bytes = encodeSafetensors(tensors, metadata, options);
  const temp = `${path}.${fs.pid}.${Date.now()}.tmp`;
  try {
    const file = await fs.open(temp, { write: true, createNew: true });
    try {
      for (let at = 0; at < bytes.length;) at += await file.write(bytes.subarray(at));
      await file.sync();
    } finally {
      file.close();
    }
    await fs.rename(temp, path);
  } catch (e) {
    await fs.remove(temp).catch(() => {});
    throw new SafetensorsError(`saveSafetensorsFile: cannot write ${path} (${messageOf(e)})`, { cause: e });
  }
  // The rename is durable once the folder's entry is on disk; some systems cannot sync a folder (nothing to do there).
  try {
    const folder = await fs.open(folderOf(path), { read: true });
    try {
      await folder.sync();
    } finally {
      folder.close();
    }
  } catch {
    // e.g. Windows, where a folder cannot be opened as a file
  }
}

/**
 * Reads a safetensors file into CPU arrays; malformed files raise a `SafetensorsError`, data that fails its
 * checksum a `ChecksumError`, each naming the file. Deno only.
 */
export async function loadSafetensorsFile(path: string, options: { verify?: boolean } = {}): Promise<SafetensorsContents> {
  const bytes = await deno("loadSafetensorsFile").readFile(path).catch((e: unknown) => {
    throw new SafetensorsError(`loadSafetensorsFile: cannot read ${path} (${messageOf(e)})`, { cause: e });
  });
  return decodeSafetensors(bytes, { source: path, verify: options.verify });
}

/** The message of a thrown value, for embedding in ours (the original stays as `cause`). */
function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

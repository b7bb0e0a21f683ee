import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { asOutputError, errorCode, OutputError } from "./errors.ts";

/** New files get 0666 less the umask, as the system's own tools create them. */
const FILE_MODE = 0o666;

/** The name of a temporary file for `path`: `<path>.<pid>.<ms>.tmp`, so a stale one names the process that left it. */
export function tempName(path: string): string {
  return `${path}.${process.pid}.${Date.now()}.tmp`;
}

/** `<name>.<pid>.<ms>.tmp` (this CLI's and the nn package's) or `<name>.tmp-<a>-<b>` (older nn versions'). */
export const TEMP_FILE = /^(.+)\.(\d+)\.(\d+)\.tmp$|\.tmp-[0-9a-z]+-[0-9a-z]+$/;

/** Deletes `path` if it exists; a failure to (the write that made it already failed) is not worth a second error. */
export function removeQuietly(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // e.g. ENOTDIR: the file was never created
  }
}

/** Creates `dir` and its parents; a file in the way is an OutputError for `file` saying so. */
export function ensureDir(dir: string, file: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    // mkdir reports a file where a folder should be as EEXIST, which reads as nonsense ("it exists already").
    if (errorCode(e) === "EEXIST") throw new OutputError(file, "a part of the path is a file, not a folder (ENOTDIR)");
    throw asOutputError(file, e);
  }
}

function writeAll(fd: number, data: Uint8Array): void {
  for (let at = 0; at < data.length;) at += writeSync(fd, data, at, data.length - at);
}

/** Flushes a folder's entries (a rename or a new file) to disk; a system that cannot sync folders is skipped. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // e.g. Windows, where a folder cannot be opened as a file: the rename itself is all there is
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Writes a file so readers see the old or the new content, never a half, even after a crash or a power cut:
 * a new temp file in the same folder (created exclusively, mode from the umask), flushed to disk, renamed over
 * `path`, then the folder flushed. File-system failures become an `OutputError` naming `path`.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const tmp = tempName(path);
  let fd: number | undefined;
  ensureDir(dirname(path), path);
  try {
    fd = openSync(tmp, "wx", FILE_MODE);
    writeAll(fd, bytes);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    removeQuietly(tmp);
    throw asOutputError(path, e);
  }
  fsyncDir(dirname(path));
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
}

/** Appends `text` to `path` (created with the umask's mode) and flushes it to disk before returning. */
export function appendFileDurable(path: string, text: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, "a", FILE_MODE);
    writeAll(fd, new TextEncoder().encode(text));
    fsyncSync(fd);
  } catch (e) {
    throw asOutputError(path, e);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

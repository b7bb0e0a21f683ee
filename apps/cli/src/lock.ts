import { closeSync, fsyncSync, linkSync, openSync, readdirSync, readFileSync, rmSync, unlinkSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { ensureDir, fsyncDir, removeQuietly, TEMP_FILE, tempName } from "./atomic.ts";
import { asOutputError, errorCode, RunBusyError } from "./errors.ts";

/** The lock file of a run folder; it names the process that owns the folder. */
export const LOCK_FILE = "run.lock";

/** What a lock file holds. */
export interface LockHolder {
  pid: number;
  host: string;
  started_at: string;
  command: string;
}

/** Whether process `pid` of this host exists (signal 0 checks without sending; EPERM: it exists, owned by another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errorCode(e) === "EPERM";
  }
}

function readHolder(path: string): LockHolder | null | "unreadable" {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if (errorCode(e) === "ENOENT") return null;
    throw e;
  }
  try {
    const h = JSON.parse(text) as LockHolder;
    return Number.isInteger(h.pid) && typeof h.host === "string" ? h : "unreadable";
  } catch {
    return "unreadable";
  }
}

/** File systems without hard links (FAT, some network shares) say so with one of these. */
const NO_LINKS = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EXDEV"]);

/**
 * Creates `path` holding `holder` unless it exists (EEXIST): by hard-linking the complete temp file `tmp`, or where
 * the file system has no hard links by an exclusive create (a reader may then briefly find it empty, which counts
 * as unreadable, that is, in use).
 */
function createExclusive(tmp: string, path: string, holder: LockHolder): void {
  try {
    linkSync(tmp, path);
    return;
  } catch (e) {
    if (!NO_LINKS.has(errorCode(e) ?? "")) throw e;
  }
  const fd = openSync(path, "wx", 0o666);
  try {
    writeSync(fd, JSON.stringify(holder) + "\n");
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const describe = (h: LockHolder) => `process ${h.pid} on ${h.host} (started ${h.started_at}: ${h.command})`;

/**
 * Exclusive ownership of a run folder by one process. The lock file is written whole to a temp file and then
 * hard-linked into place, which fails when the name exists: creation is atomic and a reader never sees a
 * half-written lock. A lock left by a process of this host that no longer exists (killed, crashed) is taken over,
 * with a message; a live holder, or one on another host, makes `acquire` throw a `RunBusyError` naming it.
 */
export class RunLock {
  #released = false;
  readonly #onExit = () => this.release();

  private constructor(readonly dir: string, readonly holder: LockHolder) {
    // Also on process.exit() (a second Ctrl-C) and uncaught errors; a kill -9 leaves a stale lock, taken over next time.
    process.on("exit", this.#onExit);
  }

  get path(): string {
    return join(this.dir, LOCK_FILE);
  }

  /** Takes the lock of `dir` (creating the folder); `log` hears of a stale lock taken over. */
  static acquire(dir: string, log: (line: string) => void = () => {}, command = process.argv.slice(2).join(" ")): RunLock {
    const holder: LockHolder = { pid: process.pid, host: hostname(), started_at: new Date().toISOString(), command };
    const path = join(dir, LOCK_FILE);
    const tmp = tempName(path);
    ensureDir(dir, path);
    try {
      const fd = openSync(tmp, "wx", 0o666);
      try {
        writeSync(fd, JSON.stringify(holder) + "\n");
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      removeQuietly(tmp);
      throw asOutputError(path, e);
    }
    try {
      for (let attempt = 0; attempt < 20; attempt++) {
        try {
          createExclusive(tmp, path, holder);
          fsyncDir(dir);
          return new RunLock(dir, holder);
        } catch (e) {
          if (errorCode(e) !== "EEXIST") throw asOutputError(path, e);
        }
        const found = readHolder(path);
        if (found === null) continue; // released meanwhile
        if (found === "unreadable") {
          throw new RunBusyError(`${dir} is locked: ${path} exists but is unreadable; if no run uses the folder, delete the lock file`);
        }
        if (found.host !== holder.host) {
          throw new RunBusyError(`${dir} is in use by ${describe(found)}; if that process is gone, delete ${path}`);
        }
        if (processAlive(found.pid)) throw new RunBusyError(`${dir} is in use by ${describe(found)}`);
        if (RunLock.#removeStale(path, found, tmp, holder)) {
          log(`taking over the lock of ${dir} left by ${describe(found)}, which no longer runs`);
        }
      }
      throw new RunBusyError(`${dir}: could not take the lock at ${path} (other processes keep taking it)`);
    } finally {
      removeQuietly(tmp);
    }
  }

  /**
   * Removes the stale lock `found` unless another process replaced it meanwhile. Takers of stale locks serialise
   * on `<lock>.takeover` (itself taken over when its holder is dead), so one cannot delete the fresh lock of another.
   */
  static #removeStale(path: string, found: LockHolder, tmp: string, holder: LockHolder): boolean {
    const guard = `${path}.takeover`;
    try {
      createExclusive(tmp, guard, holder);
    } catch (e) {
      if (errorCode(e) !== "EEXIST") throw asOutputError(guard, e);
      const other = readHolder(guard);
      if (other !== null && (other === "unreadable" || !processAlive(other.pid))) rmSync(guard, { force: true });
      return false; // someone else is taking over; look again
    }
    try {
      const now = readHolder(path);
      if (now === null || now === "unreadable" || now.pid !== found.pid || now.started_at !== found.started_at) return false;
      unlinkSync(path);
      return true;
    } finally {
      rmSync(guard, { force: true });
    }
  }

  /** Removes the lock file if it still names this process; idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    process.off("exit", this.#onExit);
    try {
      const now = readHolder(this.path);
      if (now !== null && now !== "unreadable" && now.pid === this.holder.pid && now.started_at === this.holder.started_at) {
        unlinkSync(this.path);
      }
    } catch {
      // a folder made read-only keeps its lock; the next run of this host takes it over once this process is gone
    }
  }

  /** Deletes temp files that writers killed mid-write left behind (only the lock holder may: nobody else writes here). */
  removeStaleTemps(log: (line: string) => void = () => {}): string[] {
    const removed: string[] = [];
    for (const name of readdirSync(this.dir)) {
      const m = TEMP_FILE.exec(name);
      // Named with a live process's id: that process is still writing it (a lock file about to be refused, say).
      if (!m || (m[2] !== undefined && processAlive(Number(m[2])))) continue;
      try {
        rmSync(join(this.dir, name), { force: true });
        removed.push(name);
      } catch (e) {
        throw asOutputError(join(this.dir, name), e);
      }
    }
    if (removed.length) log(`removed ${removed.length} temporary file${removed.length > 1 ? "s" : ""} of interrupted writes from ${this.dir}: ${removed.join(", ")}`);
    return removed;
  }
}

import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { appendFileDurable, writeFileAtomic } from "../src/atomic.ts";
import { OutputError, RunBusyError } from "../src/errors.ts";
import { LOCK_FILE, processAlive, RunLock } from "../src/lock.ts";
import { tempDir } from "./helpers.ts";

/** The id of a process that has exited (and was reaped), so no process has it now. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  const pid = Number(r.stdout);
  expect(processAlive(pid)).toBe(false);
  return pid;
}

const holderOf = (dir: string) => JSON.parse(readFileSync(join(dir, LOCK_FILE), "utf8"));

describe("RunLock", () => {
  test("names its holder, refuses a second owner while held, and is gone once released", () => {
    const dir = join(tempDir("lock"), "run");
    const lock = RunLock.acquire(dir, () => {}, "train mlp --out run");
    expect(holderOf(dir)).toMatchObject({ pid: process.pid, host: hostname(), command: "train mlp --out run" });
    expect(Date.parse(holderOf(dir).started_at)).not.toBeNaN();
    // The same process counts as a live holder too: a folder is never owned twice.
    expect(() => RunLock.acquire(dir)).toThrow(RunBusyError);
    expect(() => RunLock.acquire(dir)).toThrow(new RegExp(`is in use by process ${process.pid} on ${hostname()} \\(started .*: train mlp --out run\\)`));
    lock.release();
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    RunLock.acquire(dir).release();
    expect(readdirSync(dir)).toEqual([]);
  });

  test("a dead process's lock is taken over with a message; a live one's, another host's or an unreadable one is not", () => {
    const dir = tempDir("stale");
    const lockFile = join(dir, LOCK_FILE);
    const stale = { pid: deadPid(), host: hostname(), started_at: "2026-01-01T00:00:00.000Z", command: "train mlp" };
    writeFileSync(lockFile, JSON.stringify(stale));
    const said: string[] = [];
    const lock = RunLock.acquire(dir, (line) => said.push(line));
    expect(said).toEqual([expect.stringMatching(new RegExp(`taking over the lock of .* left by process ${stale.pid} on .*which no longer runs`))]);
    expect(holderOf(dir).pid).toBe(process.pid);
    lock.release();

    writeFileSync(lockFile, JSON.stringify({ ...stale, pid: process.ppid }));
    expect(() => RunLock.acquire(dir)).toThrow(new RegExp(`in use by process ${process.ppid}`));
    writeFileSync(lockFile, JSON.stringify({ ...stale, host: "elsewhere.example" }));
    expect(() => RunLock.acquire(dir)).toThrow(/in use by process \d+ on elsewhere\.example .*if that process is gone, delete .*run\.lock/);
    writeFileSync(lockFile, '{"pid": 12');
    expect(() => RunLock.acquire(dir)).toThrow(/run\.lock exists but is unreadable/);
    // Refusals leave nothing behind but the lock that was there.
    expect(readdirSync(dir)).toEqual([LOCK_FILE]);
  });

  test("release leaves a lock that another process holds now", () => {
    const dir = tempDir("release");
    const lock = RunLock.acquire(dir);
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 1, host: hostname(), started_at: "x", command: "other" }));
    lock.release();
    expect(holderOf(dir).command).toBe("other");
  });

  test("the holder removes temp files of dead writers, and keeps a live process's", () => {
    const dir = tempDir("temps");
    const dead = deadPid();
    for (const name of [`checkpoint.safetensors.${dead}.1733300000000.tmp`, "model.safetensors.tmp-m4abc-x1y2z3", `config.json.${process.ppid}.1.tmp`, "notes.tmp", "config.json"]) {
      writeFileSync(join(dir, name), "x");
    }
    const lock = RunLock.acquire(dir);
    const said: string[] = [];
    expect(lock.removeStaleTemps((l) => said.push(l)).sort()).toEqual([`checkpoint.safetensors.${dead}.1733300000000.tmp`, "model.safetensors.tmp-m4abc-x1y2z3"]);
    expect(said[0]).toMatch(/removed 2 temporary files of interrupted writes/);
    lock.release();
    expect(readdirSync(dir).sort()).toEqual(["config.json", `config.json.${process.ppid}.1.tmp`, "notes.tmp"].sort());
  });
});

describe("durable writes", () => {
  test("new files get 0666 less the umask (metrics.jsonl too), and no temp file stays", () => {
    const dir = tempDir("modes");
    const old = process.umask(0o027);
    try {
      writeFileAtomic(join(dir, "config.json"), "{}\n");
      writeFileAtomic(join(dir, "config.json"), "{\"a\": 1}\n");
      appendFileDurable(join(dir, "metrics.jsonl"), "{}\n");
      appendFileDurable(join(dir, "metrics.jsonl"), "{}\n");
    } finally {
      process.umask(old);
    }
    expect(statSync(join(dir, "config.json")).mode & 0o777).toBe(0o640);
    expect(statSync(join(dir, "metrics.jsonl")).mode & 0o777).toBe(0o640);
    expect(readFileSync(join(dir, "config.json"), "utf8")).toBe("{\"a\": 1}\n");
    expect(readFileSync(join(dir, "metrics.jsonl"), "utf8")).toBe("{}\n{}\n");
    expect(readdirSync(dir).sort()).toEqual(["config.json", "metrics.jsonl"]);
  });

  test("a file that cannot be written is an OutputError naming it and why, and leaves nothing behind", () => {
    const dir = tempDir("fail");
    writeFileSync(join(dir, "afile"), "x");
    expect(() => writeFileAtomic(join(dir, "afile", "config.json"), "{}")).toThrow(OutputError);
    expect(() => writeFileAtomic(join(dir, "afile", "config.json"), "{}")).toThrow(/^cannot write .*afile\/config\.json: a part of the path is a file, not a folder \(ENOTDIR\)$/);
    expect(() => appendFileDurable(join(dir, "afile", "metrics.jsonl"), "{}")).toThrow(/cannot write .*metrics\.jsonl: .*\(ENOTDIR\)/);
    expect(() => RunLock.acquire(join(dir, "afile", "run"))).toThrow(/cannot write .*run\.lock: a part of the path is a file, not a folder \(ENOTDIR\)/);
    expect(readdirSync(dir)).toEqual(["afile"]);
  });
});

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";

declare const Deno: { version: { deno: string; v8: string } } | undefined;

/** The runtime's name and version, for run records. */
export function runtimeVersions(): Record<string, string> {
  const versions: Record<string, string> = {};
  if (typeof Deno !== "undefined") versions.deno = Deno.version.deno;
  else versions.node = process.versions.node;
  return versions;
}

export function cpuName(): string {
  return cpus()[0]?.model?.trim() ?? "unknown CPU";
}

/** The commit of the working tree the run was started from, or null outside a git checkout. */
export function gitCommit(): string | null {
  try {
    const out = execFileSync("git", ["rev-parse", "HEAD"], { stdio: ["ignore", "pipe", "ignore"] });
    return new TextDecoder().decode(out).trim() || null;
  } catch {
    return null;
  }
}

/**
 * The peak resident set size of a run: the OS's own high-water mark where it keeps one (Linux's VmHWM, which also
 * sees the short peaks between samples), else the largest `rss` sampled; and the peaks of a resumed run's earlier
 * processes.
 */
export class PeakRss {
  #peak = 0;
  /** Counts a peak measured before, e.g. by the process that wrote the checkpoint a run resumes from. */
  include(bytes: number): void {
    if (Number.isFinite(bytes)) this.#peak = Math.max(this.#peak, bytes);
  }
  sample(): number {
    this.#peak = Math.max(this.#peak, process.memoryUsage().rss, highWaterMark() ?? 0);
    return this.#peak;
  }
  get bytes(): number {
    return this.#peak;
  }
}

/** Linux's peak resident set size of this process in bytes (VmHWM in /proc/self/status); undefined elsewhere. */
export function highWaterMark(): number | undefined {
  try {
    const kib = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
    return kib === undefined ? undefined : Number(kib) * 1024;
  } catch {
    return undefined;
  }
}

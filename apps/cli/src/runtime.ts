import { execFileSync } from "node:child_process";
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

/** Tracks the process's peak resident set size by sampling (the OS's own peak is not portable). */
export class PeakRss {
  #peak = 0;
  sample(): number {
    this.#peak = Math.max(this.#peak, process.memoryUsage().rss);
    return this.#peak;
  }
  get bytes(): number {
    return this.#peak;
  }
}

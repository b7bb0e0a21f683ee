/** A bad command line: printed as one line, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Exit codes: 0 done, 1 failed (data, I/O, divergence), 2 bad usage, 130 interrupted. */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

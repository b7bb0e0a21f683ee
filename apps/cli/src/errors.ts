/** A bad command line: printed as one line, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * Exit codes: 0 done, 1 failed (data, I/O, corrupt records, divergence), 2 bad usage, 3 run folder in use,
 * 77 a permission Deno was not given (sysexits' EX_NOPERM), 130 interrupted.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, busy: 3, permission: 77, interrupted: 130 } as const;

/** A failure the CLI explains in one line: printed as `error: <message>`, exit code `exitCode`. */
export class CliError extends Error {
  override name = "CliError";
  constructor(message: string, readonly exitCode: number = EXIT.failed) {
    super(message);
  }
}

/** Another live process holds the run folder's lock (exit code 3). */
export class RunBusyError extends CliError {
  override name = "RunBusyError";
  constructor(message: string) {
    super(message, EXIT.busy);
  }
}

/** A file of a run folder could not be written (permissions, a read-only or full disk): names the file and why. */
export class OutputError extends CliError {
  override name = "OutputError";
  constructor(readonly file: string, readonly reason: string) {
    super(`cannot write ${file}: ${reason}`);
  }
}

/** A run record that is unreadable, damaged or inconsistent with the checkpoint: names the file, expected vs found. */
export class RunRecordError extends CliError {
  override name = "RunRecordError";
  constructor(readonly file: string, problem: string) {
    super(`${file}: ${problem}`);
  }
}

const REASONS: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "the file system is read-only",
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  ENOENT: "a folder on the path does not exist",
  ENOTDIR: "a part of the path is a file, not a folder",
  EISDIR: "it is a folder",
  EEXIST: "it exists already",
};

/** The system error code of `e` (EACCES, ENOSPC, …), or undefined when `e` is not one. */
export function errorCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown })?.code;
  return typeof code === "string" ? code : undefined;
}

/** `e` as an OutputError naming `file` when it is a file-system failure a user can fix; otherwise `e` itself. */
export function asOutputError(file: string, e: unknown): unknown {
  if (e instanceof CliError) return e;
  const code = errorCode(e);
  if (code === undefined) return e;
  return new OutputError(file, `${REASONS[code] ?? "the system refused"} (${code})`);
}

/**
 * The one-line message for a permission Deno refused (NotCapable; PermissionDenied before Deno 2), naming the flag
 * that grants it; undefined for any other error.
 */
export function permissionMessage(e: unknown): string | undefined {
  if (!(e instanceof Error) || (e.name !== "NotCapable" && e.name !== "PermissionDenied")) return undefined;
  // Deno says: 'Requires read access to "runs", run again with the --allow-read flag'.
  const what = e.message.replace(/,? run again with the --allow-[a-z-]+ flag\.?$/, "");
  const flag = e.message.match(/--allow-[a-z-]+/)?.[0];
  const grant = flag ? `grant it with ${flag}, or all the CLI needs with -A` : "grant the CLI its permissions with -A";
  return `missing permission: ${what}; ${grant} (deno run -A apps/cli <command>)`;
}

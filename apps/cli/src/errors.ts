/** A bad command line: printed as one line, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * Exit codes: 0 done, 1 failed (data, I/O, divergence), 2 bad usage, 77 a permission Deno was not given
 * (sysexits' EX_NOPERM), 130 interrupted.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, permission: 77, interrupted: 130 } as const;

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

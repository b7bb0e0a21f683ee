import { BackpropError } from "@backprop/tensor";
import { runCli } from "./cli.ts";
import { CliError, errorCode, EXIT, permissionMessage } from "./errors.ts";
import { downloadCommand } from "./commands/download.ts";
import { evalCommand } from "./commands/eval.ts";
import { gradcheckCommand } from "./commands/gradcheck.ts";
import { reportCommand } from "./commands/report.ts";
import { trainCommand } from "./commands/train.ts";

/**
 * Runs the CLI on `argv` and returns the exit code. Every failure ends in one `error: …` line and a documented
 * code (EXIT): the CLI's own errors carry theirs, a permission Deno refused names the flag that grants it (77),
 * library errors (missing data, corrupt files) and anything unexpected give 1. `--debug` (anywhere on the line)
 * or BACKPROP_DEBUG=1 adds the stack trace.
 */
export async function run(argv: readonly string[]): Promise<number> {
  const debug = argv.includes("--debug") || debugFromEnvironment();
  try {
    return await runCli(argv.filter((a) => a !== "--debug"), {
      train: trainCommand,
      eval: evalCommand,
      gradcheck: gradcheckCommand,
      download: downloadCommand,
      report: reportCommand,
    });
  } catch (e) {
    const permission = permissionMessage(e);
    if (permission) {
      console.error(`error: ${permission}`);
      return EXIT.permission;
    }
    const err = e instanceof Error ? e : new Error(String(e));
    const known = e instanceof CliError || e instanceof BackpropError || errorCode(e) !== undefined;
    console.error(`error: ${err.message}`);
    if (debug) console.error(err.stack ?? "");
    else if (!known) console.error(`(an unexpected ${err.name}; run again with --debug for the stack trace)`);
    return e instanceof CliError ? e.exitCode : EXIT.failed;
  }
}

/** BACKPROP_DEBUG=1; false when Deno was not allowed to read the environment (that refusal is reported later). */
function debugFromEnvironment(): boolean {
  try {
    return process.env.BACKPROP_DEBUG === "1";
  } catch {
    return false;
  }
}

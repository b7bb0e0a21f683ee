import { BackpropError } from "@backprop/tensor";
import { runCli } from "./cli.ts";
import { EXIT, permissionMessage } from "./errors.ts";
import { downloadCommand } from "./commands/download.ts";
import { evalCommand } from "./commands/eval.ts";
import { gradcheckCommand } from "./commands/gradcheck.ts";
import { reportCommand } from "./commands/report.ts";
import { trainCommand } from "./commands/train.ts";

/**
 * Runs the CLI on `argv`; turns library errors (missing data, corrupt files) into one message and exit code 1, and
 * a permission Deno refused into one naming the flag that grants it and exit code 77.
 */
export async function run(argv: readonly string[]): Promise<number> {
  try {
    return await runCli(argv, {
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
    const err = e as Error;
    const known = e instanceof BackpropError || ["DatasetError", "DataNotFoundError", "DownloadError", "GpuUnavailableError"].includes(err.name);
    console.error(known ? `error: ${err.message}` : (err.stack ?? String(err)));
    return EXIT.failed;
  }
}

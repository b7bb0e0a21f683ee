// `deno run -A apps/report/main.ts runs/* -o report/` — see src/cli.ts for the options.
import process from "node:process";
import { runCli } from "./src/cli.ts";

export * from "./src/mod.ts";

// Only when run as a program, so importing this file (or the package) never starts the command.
if ((import.meta as { main?: boolean }).main) {
  process.exitCode = await runCli(process.argv.slice(2));
}

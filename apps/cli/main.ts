#!/usr/bin/env -S deno run -A
/**
 * backprop's command line: `deno run -A apps/cli/main.ts <command>`; `--help` lists the commands and flags.
 * @module
 */
import { run } from "./src/main.ts";

process.exitCode = await run(process.argv.slice(2));

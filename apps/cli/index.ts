#!/usr/bin/env -S deno run -A
/**
 * `deno run -A apps/cli <command>`: Deno runs a folder's index.ts when the workspace enables sloppy imports (the
 * root deno.json does). The program itself is main.ts.
 * @module
 */
import "./main.ts";

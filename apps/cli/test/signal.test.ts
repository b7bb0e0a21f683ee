import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { hasMini, miniArchive, repoRoot, tempDir } from "./helpers.ts";

// The binary itself: the npm wrapper script would take the signal instead of Deno.
const deno = join(repoRoot, "node_modules/deno/deno");

test.skipIf(!hasMini || !existsSync(deno))("Ctrl-C under Deno saves a checkpoint, writes an interrupted summary and exits 130", async () => {
  const out = tempDir("sigint");
  const child = spawn(deno, [
    "run", "-A", "apps/cli/main.ts", "train", "mlp", "--data_dir", miniArchive, "--max_steps", "100000",
    "--eval_freq", "40", "--eval_subset", "50", "--out", out, "--progress", "lines",
  ], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const code = await new Promise<number | null>((resolve) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      // Interrupt once training is under way (a progress line has been printed).
      if (/step \d+\/100000/.test(output) && !child.killed) child.kill("SIGINT");
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("close", resolve);
  });
  expect(code, output).toBe(130);
  const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
  expect(summary.status).toBe("interrupted");
  expect(summary.message).toMatch(/--resume/);
  expect(existsSync(join(out, "checkpoint.safetensors"))).toBe(true);
}, 120_000);

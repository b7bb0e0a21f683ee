import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../src/cli.ts";
import { makeFixtureRuns } from "./fixtures.ts";

const appDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const denoBin = resolve(appDir, "../../node_modules/.bin/deno");

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

let root: string;
let dirs: string[];
beforeAll(async () => {
  ({ root, dirs } = await makeFixtureRuns({ broken: true }));
}, 30_000);
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("runCli", () => {
  it("exits 2 with usage when no run folder is given", async () => {
    const c = capture();
    expect(await runCli([], c.io)).toBe(2);
    expect(c.err[0]).toMatch(/no run folders given/);
    expect(c.err[1]).toMatch(/^Usage: report RUN_DIR/);
  });

  it("exits 2 on an unknown option", async () => {
    const c = capture();
    expect(await runCli(["runs", "--frobnicate"], c.io)).toBe(2);
    expect(c.err[0]).toMatch(/frobnicate/);
  });

  it("prints help", async () => {
    const c = capture();
    expect(await runCli(["--help"], c.io)).toBe(0);
    expect(c.out[0]).toContain("--gradcheck FILE");
  });

  it("writes the report from FIXTURE runs, warning about the broken one by name", async () => {
    const c = capture();
    const out = join(root, "cli-report");
    expect(await runCli([join(root, "runs"), "-o", out, "--no-pdf"], c.io)).toBe(0);
    expect(c.out[0]).toBe(`report: 7 run(s) → ${join(out, "index.html")}`);
    expect(c.err.some((l) => l.startsWith(`warning: run "fixture-broken-s44"`) && l.includes("cut off"))).toBe(true);
    expect(existsSync(join(out, "index.html"))).toBe(true);
  }, 60_000);
});

describe("main.ts under Deno", () => {
  it.skipIf(!existsSync(denoBin))("runs as `deno run -A main.ts RUN... -o OUT`", async () => {
    const out = join(root, "deno-report");
    const { stdout, stderr } = await promisify(execFile)(
      denoBin,
      ["run", "-A", join(appDir, "main.ts"), ...dirs.slice(0, 3), "-o", out, "--no-pdf"],
      { cwd: appDir, timeout: 90_000 },
    );
    expect(stdout).toContain(`report: 3 run(s) → ${join(out, "index.html")}`);
    expect(stderr).toBe("");
    const html = await readFile(join(out, "index.html"), "utf8");
    expect(html).toContain('data-chart="run-fixture-mlp-s42-loss"');
  }, 120_000);
});

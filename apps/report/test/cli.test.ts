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

  it("exits 1 naming each run path it cannot read, and writes nothing", async () => {
    const c = capture();
    const out = join(root, "cli-mistyped");
    const typo = join(root, "runs", "fixture-mlp-s4");
    const file = join(dirs[0], "config.json");
    expect(await runCli([dirs[0], typo, file, "-o", out, "--no-pdf"], c.io)).toBe(1);
    expect(c.err).toEqual([
      `report: cannot read run path ${typo}: does not exist`,
      `report: cannot read run path ${file}: is a file, not a run folder`,
      "report: nothing written; --partial writes a report of the 1 run(s) that could be read",
    ]);
    expect(c.out).toEqual([]);
    expect(existsSync(out)).toBe(false);
  });

  it("with --partial writes the runs it can read and names what it left out", async () => {
    const c = capture();
    const out = join(root, "cli-partial");
    const typo = join(root, "runs", "fixture-mlp-s4");
    expect(await runCli([dirs[0], typo, "-o", out, "--no-pdf", "--partial"], c.io)).toBe(0);
    expect(c.err).toEqual([`report: left out ${typo}: does not exist`]);
    expect(c.out).toEqual([`report: 1 run(s) → ${join(out, "index.html")}`]);
  });

  it("exits 1 with --partial when nothing can be read", async () => {
    const c = capture();
    expect(await runCli([join(root, "nothing-here"), "-o", join(root, "cli-none"), "--partial"], c.io)).toBe(1);
    expect(c.err.at(-1)).toBe("report: no run could be read; nothing written");
  });
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

  // Both entry points (this app's main.ts and the CLI's `report` command) must fail the same way on a typo.
  const entryPoints = [
    ["apps/report/main.ts", [join(appDir, "main.ts")]],
    ["apps/cli/main.ts report", [resolve(appDir, "../cli/main.ts"), "report"]],
  ] as const;
  for (const [name, command] of entryPoints) {
    it.skipIf(!existsSync(denoBin))(`${name} exits 1 on a mistyped run path, naming it`, async () => {
      const typo = join(root, "runs", "fixture-mlp-s4");
      const out = join(root, `deno-typo-${name.length}`);
      const failure = await promisify(execFile)(denoBin, ["run", "-A", ...command, dirs[0], typo, "-o", out, "--no-pdf"], {
        cwd: appDir,
        timeout: 90_000,
      }).then(() => undefined, (e: { code: number; stdout: string; stderr: string }) => e);
      expect(failure?.code).toBe(1);
      expect(failure?.stderr).toContain(`report: cannot read run path ${typo}: does not exist`);
      expect(failure?.stdout).toBe("");
      expect(existsSync(out)).toBe(false);
    }, 120_000);
  }
});

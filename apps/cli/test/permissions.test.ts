import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { EXIT, permissionMessage } from "../src/errors.ts";
import { repoRoot } from "./helpers.ts";

const deno = join(repoRoot, "node_modules/deno/deno");

describe("permissionMessage", () => {
  test("names what Deno refused and the flag that grants it", () => {
    const refused = Object.assign(new Error('Requires read access to "runs", run again with the --allow-read flag'), { name: "NotCapable" });
    expect(permissionMessage(refused)).toBe(
      'missing permission: Requires read access to "runs"; grant it with --allow-read, or all the CLI needs with -A (deno run -A apps/cli <command>)',
    );
  });

  test("is undefined for other errors", () => {
    expect(permissionMessage(new Error("Requires read access"))).toBeUndefined();
    expect(permissionMessage("NotCapable")).toBeUndefined();
  });
});

describe.skipIf(!existsSync(deno))("deno run apps/cli", () => {
  const cli = (...args: string[]) => spawnSync(deno, ["run", ...args], { cwd: repoRoot, encoding: "utf8", timeout: 60_000 });

  test("runs the folder (its index.ts) with -A", () => {
    const r = cli("-A", "apps/cli", "train", "--help");
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^Usage: backprop train \[options\] <model>/);
    expect(r.status).toBe(EXIT.ok);
  }, 60_000);

  test("without permissions, names the missing one and its flag in one line and exits 77", () => {
    const r = cli("apps/cli", "train", "--help");
    expect(r.stderr.trim()).toMatch(/^error: missing permission: Requires env access to "[A-Z_]+"; grant it with --allow-env, or all the CLI needs with -A/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.status).toBe(EXIT.permission);
  }, 60_000);
});

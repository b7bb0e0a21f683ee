// Runs each example as a user would, from a scratch folder outside the workspace, against the packages as they
// would be published: built, packed with npm and with pnpm, installed from the tarballs (third-party packages
// come from the package manager's cache, or the registry). Every example trains XOR and prints its loss; each
// test asserts that the loss falls. `pnpm examples` (CI runs it after the tests).
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CHROMIUM_ARGS, CHROMIUM_PATH, chromiumAvailable } from "../apps/report/src/mod.ts";

const examples = fileURLToPath(new URL(".", import.meta.url));
const repoRoot = join(examples, "..");
const deno = join(repoRoot, "node_modules/deno/deno");
const LIBRARIES = ["tensor", "autograd", "nn", "gpu", "datasets"];

let scratch: string;
/** Tarball of each package by name, as `npm pack` and `pnpm pack` made it. */
const tarballs: Record<"npm" | "pnpm", Map<string, string>> = { npm: new Map(), pnpm: new Map() };

function sh(command: string, args: string[], cwd: string, env: Record<string, string> = {}): string {
  try {
    return execFileSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(" ")} (in ${cwd}) failed: ${err.message}\n${err.stdout ?? ""}\n${err.stderr ?? ""}`);
  }
}

/** A copy of `examples/<name>` in the scratch folder. */
function copyExample(name: string, as = name): string {
  const dir = join(scratch, as);
  cpSync(join(examples, name), dir, { recursive: true });
  return dir;
}

/** The losses in `step <n> loss <x>` lines, in order. */
function losses(output: string): number[] {
  return [...output.matchAll(/step \d+ loss (\S+)/g)].map((m) => Number(m[1]));
}

function expectFalls(values: number[]): void {
  expect(values.length).toBeGreaterThanOrEqual(2);
  expect(values.every(Number.isFinite)).toBe(true);
  // XOR from a random start: about 0.7 at first; 200 steps of SGD with momentum bring it near 0.
  expect(values.at(-1)!).toBeLessThan(values[0] / 4);
}

/** `npm install` of the npm-packed tarballs of `names` into `dir` (which has a package.json). */
function npmInstall(dir: string, names: string[]): void {
  sh("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", ...names.map((n) => tarballs.npm.get(n)!)], dir);
}

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "backprop-examples-"));
  // turbo rebuilds only what changed since the last build.
  sh("pnpm", ["run", "build"], repoRoot);
  for (const tool of ["npm", "pnpm"] as const) {
    const out = join(scratch, `tarballs-${tool}`);
    mkdirSync(out);
    for (const name of LIBRARIES) {
      sh(tool, ["pack", "--pack-destination", out], join(repoRoot, "packages", name));
      const file = readdirSync(out).find((f) => f.startsWith(`backprop-${name}-`));
      if (!file) throw new Error(`${tool} pack of packages/${name} left no backprop-${name}-*.tgz in ${out}`);
      tarballs[tool].set(`@backprop/${name}`, join(out, file));
    }
  }
}, 300_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe("packed packages", () => {
  test("carry the built files and no workspace ranges, whichever tool packed them", () => {
    for (const [tool, files] of Object.entries(tarballs)) {
      for (const [name, file] of files) {
        const manifest = JSON.parse(sh("tar", ["-xOzf", file, "package/package.json"], scratch));
        const entries = Object.values(manifest.exports as Record<string, { types: string; import: string }>);
        expect(entries.map((e) => e.import), `${tool}: ${name}`).toContain("./dist/mod.js");
        for (const e of entries) {
          expect(e.import, `${tool}: ${name}`).toMatch(/^\.\/dist\/.*\.js$/);
          expect(e.types, `${tool}: ${name}`).toMatch(/^\.\/dist\/.*\.d\.ts$/);
        }
        expect(JSON.stringify(manifest.dependencies ?? {}), `${tool}: ${name}`).not.toMatch(/workspace:/);
      }
    }
  });
});

describe("examples, outside the workspace", () => {
  test("node/: npm installs the npm-packed tarballs; Node runs it", () => {
    const dir = copyExample("node");
    npmInstall(dir, ["@backprop/tensor", "@backprop/autograd", "@backprop/nn"]);
    expectFalls(losses(sh("node", ["train.js"], dir)));
  }, 120_000);

  test("bundle/: pnpm installs the pnpm-packed tarballs; an esbuild bundle runs", () => {
    const dir = copyExample("bundle");
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    // The tarballs instead of the registry, for the example's dependencies and for theirs on one another.
    const local = Object.fromEntries([...tarballs.pnpm].map(([name, file]) => [name, `file:${file}`]));
    for (const name of Object.keys(pkg.dependencies)) pkg.dependencies[name] = local[name];
    pkg.pnpm.overrides = local;
    writeFileSync(join(dir, "package.json"), JSON.stringify(pkg, null, 2));
    sh("pnpm", ["install", "--prefer-offline", "--ignore-workspace"], dir);
    sh("pnpm", ["run", "build"], dir);
    const bundle = readFileSync(join(dir, "dist/train.js"), "utf8");
    expect(bundle).not.toMatch(/from\s*["']@backprop\//); // one file: the packages are inside
    expectFalls(losses(sh("node", ["dist/train.js"], dir)));
  }, 120_000);

  test("deno/: Deno runs it against a local checkout (deno.json links)", () => {
    const dir = copyExample("deno", "deno-checkout");
    const config = JSON.parse(readFileSync(join(dir, "deno.json"), "utf8"));
    config.links = ["tensor", "autograd", "nn"].map((n) => join(repoRoot, "packages", n));
    config.nodeModulesDir = "manual";
    writeFileSync(join(dir, "deno.json"), JSON.stringify(config, null, 2));
    expectFalls(losses(sh(deno, ["run", "train.ts"], dir)));
  }, 120_000);

  test("deno/: Deno runs it against the npm-packed tarballs", () => {
    const dir = copyExample("deno", "deno-npm");
    writeFileSync(join(dir, "deno.json"), JSON.stringify({ nodeModulesDir: "manual" }));
    writeFileSync(join(dir, "package.json"), JSON.stringify({ private: true, type: "module" }));
    npmInstall(dir, ["@backprop/tensor", "@backprop/autograd", "@backprop/nn"]);
    expectFalls(losses(sh(deno, ["run", "train.ts"], dir)));
  }, 120_000);
});

const haveChromium = await chromiumAvailable();
if (!haveChromium) console.log(`browser example skipped: no Chromium at ${CHROMIUM_PATH} (Debian: apt-get install chromium)`);

describe.skipIf(!haveChromium)("examples/browser in headless Chromium", () => {
  let server: Server | undefined;
  afterAll(() => server?.close());

  test("trains on the WebAssembly CPU backend (and WebGPU when there is an adapter) with no console errors", async () => {
    const dir = copyExample("browser");
    npmInstall(dir, ["@backprop/tensor", "@backprop/autograd", "@backprop/nn", "@backprop/gpu"]);
    server = serveStatic(dir);
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/index.html`;

    const profile = mkdtempSync(join(scratch, "chromium-profile-"));
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS], headless: true });
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(m.text());
      });
      page.on("pageerror", (e) => errors.push(e.message));
      page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()}`));
      await page.goto(url);
      const done = await page.waitForFunction(
        () => (globalThis as { backpropResult?: unknown }).backpropResult,
        undefined,
        { timeout: 60_000 },
      ).catch(() => null);
      expect(errors, "console errors").toEqual([]);
      expect(done, `the page finished (log: ${await page.textContent("#log")})`).not.toBeNull();
      const result = await done!.jsonValue() as { cpu: number[]; webgpu: number[] | null; webgpuSkipped: string };
      expectFalls(result.cpu);
      if (result.webgpu) expectFalls(result.webgpu);
      else console.log(`browser example: webgpu skipped (${result.webgpuSkipped})`);
    } finally {
      await context.close();
    }
  }, 120_000);
});

const TYPES: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".map": "application/json", ".json": "application/json" };

/** A static file server for `root` (browsers load modules only over HTTP). */
function serveStatic(root: string): Server {
  return createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
    try {
      const body = readFileSync(join(root, path));
      res.writeHead(200, { "content-type": TYPES[extname(path)] ?? "application/octet-stream" }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
}

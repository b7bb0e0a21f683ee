// The printed report (FIXTURE runs, enough of them that the summary table is longer than a page): the first page
// is filled rather than left nearly blank by a table pushed whole to page 2, and no run name breaks across lines.
// Needs Chromium (to print) and poppler's pdftoppm and pdftotext (to read the PDF back); skipped, saying why,
// where either is missing.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumAvailable, generateReport } from "../src/mod.ts";
import { DIVERGED_SPEC, FIXTURE_SPECS, makeFixtureRuns, writeFixtureRun } from "./fixtures.ts";

const run = promisify(execFile);
const POPPLER = ["/usr/bin/pdftoppm", "/usr/bin/pdftotext"];
const haveChromium = await chromiumAvailable();
const havePoppler = POPPLER.every((p) => existsSync(p));
if (!haveChromium || !havePoppler) {
  console.log(`PDF layout test skipped: needs Chromium and poppler-utils (${POPPLER.join(", ")}); apt-get install chromium poppler-utils`);
}

/** Rows of a binary PGM (P5, 8-bit) image as brightness arrays. */
function pgmRows(pgm: Buffer): Uint8Array[] {
  const header = pgm.toString("latin1", 0, 64).match(/^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/);
  if (!header) throw new Error("pdftoppm did not write a binary PGM");
  const [width, height] = [Number(header[1]), Number(header[2])];
  const data = pgm.subarray(header[0].length);
  return Array.from({ length: height }, (_, y) => data.subarray(y * width, (y + 1) * width));
}

describe.skipIf(!haveChromium || !havePoppler)("the printed report (FIXTURE runs)", () => {
  let root: string;
  let pdf: string;
  let names: string[];

  beforeAll(async () => {
    const fixture = await makeFixtureRuns({ diverged: true });
    root = fixture.root;
    // Two more seeds of every fixture run: 19 rows, more than one A4 page of summary table.
    const dirs = [...fixture.dirs];
    for (const spec of FIXTURE_SPECS) {
      for (const seed of [50, 51]) {
        const name = spec.name.replace(/-s\d+$/, `-s${seed}`);
        dirs.push(await writeFixtureRun(join(root, "runs"), { ...spec, name, seed }));
      }
    }
    names = [...FIXTURE_SPECS.map((s) => s.name), DIVERGED_SPEC.name];
    const result = await generateReport({ runDirs: dirs, outDir: join(root, "report"), pdf: true });
    expect(result.pdfSkipped).toBeUndefined();
    pdf = result.pdfPath!;
  }, 180_000);

  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("fills the first page: its content reaches past two thirds of the page", async () => {
    const { stdout } = await run("pdftoppm", ["-gray", "-r", "30", "-f", "1", "-l", "1", pdf], {
      encoding: "buffer",
      maxBuffer: 16 << 20,
    });
    const rows = pgmRows(stdout as unknown as Buffer);
    const inked = rows.map((row) => row.some((v) => v < 200));
    const lastInked = inked.lastIndexOf(true);
    expect(lastInked / rows.length).toBeGreaterThan(2 / 3);
    // And the summary table starts on it (its header row), not on page 2.
    const { stdout: text } = await run("pdftotext", ["-f", "1", "-l", "1", pdf, "-"]);
    expect(text).toContain("final test acc.");
  }, 60_000);

  it("keeps every run name on one line", async () => {
    const { stdout: text } = await run("pdftotext", [pdf, "-"], { maxBuffer: 64 << 20 });
    for (const name of names) {
      // A name broken at a hyphen shows up as "fixture-mlp-" at a line's end.
      expect(text, name).toContain(name);
    }
    expect(text).not.toMatch(/fixture-(mlp-|cnn-|mlp-lr1e6-)?\n/);
  }, 60_000);
});

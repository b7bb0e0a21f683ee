// Opens a report built from FIXTURE runs in the system's headless Chromium (Debian package `chromium`), checks
// that it renders as a reader would see it, and saves screenshots. Skipped, with the reason printed, where
// Chromium is not installed.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM_ARGS, CHROMIUM_PATH, chromiumAvailable, generateReport, type GenerateReportResult } from "../src/mod.ts";
import { makeFixtureRuns } from "./fixtures.ts";

const haveChromium = await chromiumAvailable();
if (!haveChromium) {
  console.log(`browser test skipped: no Chromium at ${CHROMIUM_PATH} (Debian: apt-get install chromium)`);
}

describe.skipIf(!haveChromium)("the report in headless Chromium (FIXTURE runs)", () => {
  let root: string;
  let shots: string;
  let result: GenerateReportResult;
  let browser: Browser;

  beforeAll(async () => {
    const fixture = await makeFixtureRuns({ broken: true });
    root = fixture.root;
    shots = await mkdtemp(join(tmpdir(), "backprop-report-screenshots-"));
    result = await generateReport({
      runDirs: fixture.dirs,
      outDir: join(root, "report"),
      pdf: true,
      gradcheckJson: {
        results: [
          { name: "cross_entropy", kind: "op", shapes: [[8, 10], [8]], max_rel_error: 2.1e-10, tolerance: 1e-6, pass: true },
          { name: "LinearModule", kind: "module", shapes: [[8, 5], [3, 5]], max_rel_error: 4.3e-9, tolerance: 1e-6, pass: true },
          { name: "relu", kind: "op", shapes: [[8, 5]], max_rel_error: 1e-11, tolerance: 1e-6, pass: true },
        ],
      },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS], headless: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (root) await rm(root, { recursive: true, force: true });
    if (shots) console.log(`report screenshots kept in ${shots}`);
  });

  /** Opens the report at a viewport width, recording console errors and any request that leaves the file. */
  async function open(width: number, height: number) {
    const page: Page = await browser.newPage({ viewport: { width, height } });
    const errors: string[] = [];
    const outside: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("request", (r) => {
      if (!/^(file|data):/.test(r.url())) outside.push(r.url());
    });
    await page.goto(pathToFileURL(result.htmlPath).href, { waitUntil: "load" });
    return { page, errors, outside };
  }

  it("renders every chart as an SVG with marks, with no console error and no outside request", async () => {
    const { page, errors, outside } = await open(1280, 900);
    const charts = await page.$$eval("figure.chart", (figures) =>
      figures.map((f) => {
        const svg = f.querySelector("svg");
        const box = svg?.getBoundingClientRect();
        const marks = svg ? svg.querySelectorAll(".role-mark > path, .role-mark > rect, .role-mark > text, .role-mark > line, .role-mark > g").length : 0;
        return { name: f.getAttribute("data-chart"), width: box?.width ?? 0, height: box?.height ?? 0, marks };
      })
    );
    expect(charts.length).toBeGreaterThan(20);
    for (const c of charts) {
      expect(c.marks, `chart ${c.name} has marks`).toBeGreaterThan(0);
      expect(c.width, `chart ${c.name} has a width`).toBeGreaterThan(100);
      expect(c.height, `chart ${c.name} has a height`).toBeGreaterThan(50);
    }
    // Every run's curves and confusion matrix are among them.
    const names = charts.map((c) => c.name);
    for (const run of result.runs) {
      const id = run.id.toLowerCase().replace(/[^a-z0-9]+/g, "-");
      expect(names).toContain(`run-${id}-loss`);
      expect(names).toContain(`run-${id}-confusion`);
    }

    const images = await page.$$eval("img", (imgs) => imgs.map((i) => (i as HTMLImageElement).naturalWidth));
    expect(images.length).toBe(7 * 48);
    expect(images.every((w) => w === 32)).toBe(true);

    const math = await page.$$eval("math", (ms) => ms.map((m) => m.getBoundingClientRect().width));
    expect(math.length).toBeGreaterThan(10);
    expect(math.every((w) => w > 0)).toBe(true);

    expect(await page.textContent("#problems")).toContain(`run "fixture-broken-s44"`);
    expect(errors).toEqual([]);
    expect(outside).toEqual([]);
    await page.screenshot({ path: join(shots, "report-desktop.png"), fullPage: true });
    await page.close();
  }, 120_000);

  it("fits a phone-width screen without sideways scrolling", async () => {
    const { page, errors } = await open(390, 844);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - globalThis.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    const widest = await page.$$eval("figure.chart svg", (svgs) => Math.max(...svgs.map((s) => s.getBoundingClientRect().right)));
    expect(widest).toBeLessThanOrEqual(390);
    expect(errors).toEqual([]);
    await page.screenshot({ path: join(shots, "report-phone.png"), fullPage: true });
    await page.close();
  }, 120_000);

  it("prints a PDF", async () => {
    expect(result.pdfPath).toBe(join(root, "report", "report.pdf"));
    const pdf = await readFile(result.pdfPath!);
    expect(pdf.subarray(0, 5).toString()).toBe("%PDF-");
    expect(pdf.length).toBeGreaterThan(50_000);
  });
});

import { existsSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expandRunDirs, generateReport, type GenerateReportResult, UnreadableRunsError } from "../src/mod.ts";
import { FIXTURE_SPECS, makeFixtureRuns } from "./fixtures.ts";

let root: string;
let dirs: string[];
let result: GenerateReportResult;
let html: string;

beforeAll(async () => {
  ({ root, dirs } = await makeFixtureRuns({ broken: true }));
  result = await generateReport({
    runDirs: dirs,
    outDir: join(root, "report"),
    pdf: false,
    generatedAt: new Date("2025-01-02T03:04:05Z"),
    gradcheckJson: { results: [{ name: "relu", kind: "op", shapes: [[4]], max_rel_error: 1e-10, tolerance: 1e-6, pass: true }] },
  });
  html = await readFile(result.htmlPath, "utf8");
}, 60_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("generateReport on FIXTURE runs", () => {
  it("writes index.html covering every run, and no PDF when asked not to", () => {
    expect(result.htmlPath).toBe(join(root, "report", "index.html"));
    expect(result.pdfPath).toBeUndefined();
    expect(result.runs).toHaveLength(FIXTURE_SPECS.length + 1);
    for (const spec of FIXTURE_SPECS) expect(html).toContain(`id="run-${spec.name}"`);
  });

  it("reports the half-written run by name and still draws what it has", () => {
    expect(result.problems.some((p) => p.includes(`run "fixture-broken-s44"`) && p.includes("metrics.jsonl line 6 is cut off"))).toBe(true);
    expect(html).toContain("Problems reading the runs (2)");
    expect(html).toContain('data-chart="run-fixture-broken-s44-loss"');
    expect(html).toContain("summary.json is missing: the figures above come from the last lines of metrics.jsonl");
  });

  it("draws the learning rate of a run whose schedule changed it, and of no other", () => {
    expect(html.match(/data-chart="run-[^"]+-learning-rate"/g)).toEqual(['data-chart="run-fixture-cnn-s42-learning-rate"']);
  });

  it("is self-contained: nothing is loaded from outside", () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/url\(\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import/);
    expect(html).toContain(`Content-Security-Policy" content="default-src 'none'`);
    // 7 runs with 32 + 16 sample images each, all inline.
    expect(html.match(/<img src="data:image\/png;base64,/g)).toHaveLength(7 * 48);
  });

  it("sorts the summary table by final test accuracy", () => {
    const table = html.slice(html.indexOf('<table class="summary">'), html.indexOf("</table>", html.indexOf('<table class="summary">')));
    const order = [...table.matchAll(/<a href="#run-([^"]+)">/g)].map((m) => m[1]);
    expect(order[0]).toBe("fixture-cnn-s42");
    expect(order.slice(1, 3)).toEqual(["fixture-mlp-adam-s42", "fixture-mlp-h512-s42"]);
    expect(order.at(-1)).toBe("fixture-mlp-lr1e-4-s42");
    expect(order).toHaveLength(7);
  });

  it("gives mean ± std over the seeds of the baseline", () => {
    const seeds = html.slice(html.indexOf('id="seeds"'));
    expect(seeds).toMatch(/<td class="num">3<\/td><td class="seeds">42, 43, 44<\/td>/);
    expect(seeds).toMatch(/\d+\.\d\d\u00a0±\u00a0\d+\.\d\d\u00a0%<\/strong><br><span class="muted">without <span class="run-id">fixture-broken-s44<\/span> \(not completed\)/);
  });

  it("draws one-setting comparisons on shared axes", () => {
    for (const setting of ["learning_rate", "dnn_hidden_units", "optimizer"]) {
      expect(html).toContain(`data-chart="compare-${setting.replace(/_/g, "-")}-test-accuracy"`);
    }
    expect(html).toMatch(/learning_rate: <code>0\.0001<\/code> vs <code>0\.002<\/code>/);
  });

  it("renders every chart as SVG with marks, and unique element ids", () => {
    const figures = html.split('<figure class="chart"').slice(1);
    expect(figures.length).toBeGreaterThan(20);
    for (const f of figures) {
      expect(f).toMatch(/^[^>]*data-chart="[^"]+"[^>]*><svg /);
      expect(f).toMatch(/class="mark-(line|rect|text|symbol)[^"]*role-mark/);
    }
    const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("includes the gradcheck measurement under the ReLU equation", () => {
    expect(html).toMatch(/Measured: <code>relu<\/code>[\s\S]*1\.0e-10/);
  });
});

describe("expandRunDirs", () => {
  it("turns a folder of runs into its run folders and keeps run folders as they are", async () => {
    const runsRoot = join(root, "runs");
    const expanded = await expandRunDirs([runsRoot]);
    expect(expanded).toEqual([...dirs].sort());
    expect(await expandRunDirs([dirs[0]])).toEqual([dirs[0]]);
  });

  it("refuses a mistyped run path, naming it, and writes nothing", async () => {
    const missing = join(root, "runs", "fixture-mlp-s4");
    const out = join(root, "report-missing");
    const error = await generateReport({ runDirs: [dirs[0], missing], outDir: out, pdf: false }).catch((e) => e);
    expect(error).toBeInstanceOf(UnreadableRunsError);
    expect(error.unreadable).toEqual([{ path: missing, reason: "does not exist" }]);
    expect(error.message).toBe(`a run path could not be read: ${missing} (does not exist)`);
    expect(existsSync(out)).toBe(false);
  });

  it("with partial, leaves an unreadable path out and names it at the top of the report", async () => {
    const missing = join(root, "missing");
    const r = await generateReport({ runDirs: [missing, dirs[1]], outDir: join(root, "report-partial"), pdf: false, partial: true });
    expect(r.leftOut).toEqual([{ path: missing, reason: "does not exist" }]);
    expect(r.runs.map((run) => run.id)).toEqual(["fixture-mlp-s43"]);
    expect(r.problems[0]).toBe(`left out ${missing}: does not exist`);
    const page = await readFile(r.htmlPath, "utf8");
    expect(page).toContain("Problems reading the runs (1)");
    expect(page).not.toContain(`<code>${missing}</code>`);
  });

  it("refuses even with partial when no run can be read", async () => {
    await expect(generateReport({ runDirs: [join(root, "missing")], outDir: join(root, "x"), pdf: false, partial: true }))
      .rejects.toThrow(/could not be read: .*missing \(does not exist\); no run left to report$/);
  });

  it("says why there is no PDF when Chromium is missing or fails to start, and keeps the HTML", async () => {
    const missing = await generateReport({
      runDirs: [dirs[1]],
      outDir: join(root, "report-nochrome"),
      chromiumPath: join(root, "no-such-chromium"),
    });
    expect(missing.pdfPath).toBeUndefined();
    expect(missing.pdfSkipped).toMatch(/no PDF: Chromium is not installed at .*no-such-chromium/);
    const failing = await generateReport({ runDirs: [dirs[1]], outDir: join(root, "report-badchrome"), chromiumPath: "/bin/false" });
    expect(failing.pdfPath).toBeUndefined();
    expect(failing.pdfSkipped).toMatch(/no PDF: printing with \/bin\/false failed/);
    expect(await readFile(failing.htmlPath, "utf8")).toContain("fixture-mlp-s43");
  }, 60_000);

  it("refuses an empty list", async () => {
    await expect(generateReport({ runDirs: [], outDir: join(root, "x") })).rejects.toThrow(/no run folders given/);
  });

  it("reports a missing metrics.jsonl by run name and still writes the report", async () => {
    const only = dirs[0];
    await rm(join(only, "metrics.jsonl"));
    await writeFile(join(root, "g.json"), "{ not json");
    const r = await generateReport({ runDirs: [only], outDir: join(root, "report-one"), pdf: false, gradcheckJson: join(root, "g.json") });
    expect(r.problems).toEqual([
      expect.stringMatching(/^run "fixture-mlp-s42" at .*: metrics\.jsonl is missing; no curves$/),
      expect.stringMatching(/^gradcheck results .*g\.json: not valid JSON/),
    ]);
    const page = await readFile(r.htmlPath, "utf8");
    expect(page).toContain("No curves: metrics.jsonl has no usable line.");
    expect(page).toContain('data-chart="run-fixture-mlp-s42-confusion"');
  });
});

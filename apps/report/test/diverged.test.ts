// A diverged run (FIXTURE: loss climbing to 3e12) in a report with healthy ones: the loss charts must stay
// readable — healthy curves fill the plot, every tick label is whole and short — and no number prints long.
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateReport } from "../src/mod.ts";
import { DIVERGED_SPEC, makeFixtureRuns } from "./fixtures.ts";

/** The plot height of a line chart (charts.ts), in SVG units. */
const PLOT_HEIGHT = 220;

let root: string;
let html: string;

beforeAll(async () => {
  const fixture = await makeFixtureRuns({ diverged: true });
  root = fixture.root;
  const result = await generateReport({ runDirs: fixture.dirs, outDir: join(root, "report"), pdf: false });
  html = await readFile(result.htmlPath, "utf8");
}, 60_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

/** The <figure> of one chart, by its data-chart name. */
function figure(name: string): string {
  const start = html.indexOf(`data-chart="${name}"`);
  expect(start, `chart ${name}`).toBeGreaterThan(0);
  return html.slice(start, html.indexOf("</figure>", start));
}

/** The y coordinates of the line drawn for one run (its aria-label names the run), in plot coordinates. */
function lineYs(svg: string, run: string): number[] {
  const path = [...svg.matchAll(/<path aria-label="([^"]*)"[^>]*aria-roledescription="line mark" d="([^"]+)"/g)]
    .find((m) => m[1].includes(`run: ${run}`));
  expect(path, `line of ${run}`).toBeDefined();
  return [...path![2].matchAll(/[ML]([-\d.e]+),([-\d.e]+)/g)].map((m) => Number(m[2]));
}

/** The tick labels of the y-axis (the axis group whose aria-label starts "Y-axis"). */
function yTickLabels(svg: string): string[] {
  const axis = svg.slice(svg.indexOf('aria-label="Y-axis'));
  const labels = axis.slice(axis.indexOf("role-axis-label"), axis.indexOf("role-axis-domain"));
  return [...labels.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
}

describe("a diverged run among healthy ones (FIXTURE runs)", () => {
  it("clips the comparison's loss axis to the healthy runs, which fill most of the plot height", () => {
    for (const chart of ["compare-learning-rate-train-loss", "compare-learning-rate-test-loss"]) {
      const svg = figure(chart);
      const ys = lineYs(svg, "fixture-mlp-s42");
      expect(Math.max(...ys) - Math.min(...ys)).toBeGreaterThan(0.6 * PLOT_HEIGHT);
      expect(svg).toMatch(/cross-entropy loss \(clipped\)/);
      // The points above the clip are marked, and the caption counts them and gives the largest.
      expect(svg).toMatch(/class="mark-symbol role-mark/);
      expect(svg).toMatch(/<figcaption>▲ off the chart: \d+ points of <span class="run-id">fixture-mlp-lr1e6-diverged-s42<\/span> above [\d.]+, up to 3\.0e12\./);
    }
  });

  it("draws the diverged run's own loss on a log axis up to 3.0e12", () => {
    const svg = figure(`run-${DIVERGED_SPEC.name}-loss`);
    expect(svg).toMatch(/aria-label="Y-axis titled 'cross-entropy loss \(log scale\)' for a log scale/);
    expect(yTickLabels(svg)).toContain("1.0e12");
    expect(svg).toContain("Log-scale loss axis: every line climbs past 10× the lowest starting loss (up to 3.0e12).");
  });

  it("writes every y tick label whole and short: no \"…\", no long digit strings", () => {
    const charts = [...html.matchAll(/data-chart="([^"]*loss)"/g)].map((m) => m[1]);
    expect(charts.length).toBeGreaterThan(10);
    for (const chart of charts) {
      const labels = yTickLabels(figure(chart));
      expect(labels.length, chart).toBeGreaterThan(1);
      for (const label of labels) {
        expect(label, chart).toMatch(/^-?[\d.,]+(e-?\d+)?$/);
        expect(label.replace(/,/g, "").length, `${chart}: ${label}`).toBeLessThanOrEqual(7);
      }
    }
    expect(html).not.toMatch(/>[^<]*…<\/text>/);
  });

  it("leaves the healthy runs' own loss charts alone", () => {
    const svg = figure("run-fixture-mlp-s42-loss");
    expect(svg).toMatch(/aria-label="Y-axis titled 'cross-entropy loss' for a linear scale/);
    expect(svg).not.toContain("<figcaption>");
  });

  it("prints the diverged loss compactly in the tables", () => {
    expect(html).toContain(">3.0e12</td>");
    expect(html).toContain("<dd>3.0e12</dd>");
    expect(html).not.toContain("3,000,000,000");
  });
});

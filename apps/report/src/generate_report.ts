// Run folders in, one self-contained HTML report (and a PDF where Chromium is installed) out.
import { mkdir, readdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { chromiumAvailable, CHROMIUM_PATH } from "./chromium.ts";
import { comparisonSection } from "./comparison_section.ts";
import { ReportContext } from "./context.ts";
import { checkGradcheck, type GradcheckReport, readGradcheck } from "./gradcheck.ts";
import { gradientsSection } from "./gradients.ts";
import { escapeHtml } from "./html.ts";
import { renderPage } from "./page.ts";
import { printPdf } from "./pdf.ts";
import { looksLikeRun, readRuns } from "./read_run.ts";
import { runSection } from "./run_section.ts";
import { summarySection } from "./summary_section.ts";
import type { GradcheckResult, Run } from "./types.ts";
import { writeFileAtomic } from "./write_atomic.ts";

export interface GenerateReportOptions {
  /** Run folders (`runs/<name>`); a folder that is not a run but holds runs (`runs/`) stands for all of them. */
  runDirs: string[];
  /** Where `index.html` (and `report.pdf`) are written; created if missing. */
  outDir: string;
  /** The output of `gradcheck --json`: a path to a file holding it, or the parsed object. */
  gradcheckJson?: string | GradcheckReport;
  /** Also print the page to `report.pdf` (default true); skipped, with a reason, where Chromium is missing. */
  pdf?: boolean;
  /** The page title. */
  title?: string;
  /** The time stamped on the report (default now). */
  generatedAt?: Date;
  /** Chromium used for the PDF (default /usr/bin/chromium). */
  chromiumPath?: string;
  /**
   * Leave out run paths that cannot be read (listed in `leftOut` and at the top of the report) instead of
   * refusing with an UnreadableRunsError. Default false.
   */
  partial?: boolean;
}

/** A run path given to the report that could not be read, and why. */
export interface UnreadableRun {
  path: string;
  reason: string;
}

/**
 * Some run paths given to the report could not be read (mistyped, not a folder, nothing readable in it): thrown
 * before anything is written, unless a partial report was asked for and at least one run could be read.
 */
export class UnreadableRunsError extends Error {
  override name = "UnreadableRunsError";
  constructor(readonly unreadable: readonly UnreadableRun[], readonly readable: number) {
    super(
      `${unreadable.length === 1 ? "a run path" : `${unreadable.length} run paths`} could not be read: ${
        unreadable.map((u) => `${u.path} (${u.reason})`).join("; ")
      }${readable === 0 ? "; no run left to report" : ""}`,
    );
  }
}

export interface GenerateReportResult {
  htmlPath: string;
  /** Set when the PDF was written. */
  pdfPath?: string;
  /** Why no PDF was written, when one was wanted. */
  pdfSkipped?: string;
  /** Every problem met (unreadable or truncated files, …), each naming its run and file. */
  problems: string[];
  /** The runs the report covers. */
  runs: Run[];
  /** Run paths left out because they could not be read (only with `partial`; otherwise they are an error). */
  leftOut: UnreadableRun[];
}

export const HTML_FILE = "index.html";
export const PDF_FILE = "report.pdf";

/** Expands a folder that holds runs into its run sub-folders (sorted); run folders and others stay as given. */
export async function expandRunDirs(dirs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const dir of dirs) {
    if (await looksLikeRun(dir)) {
      out.push(dir);
      continue;
    }
    const children = await subfolders(dir);
    const runs: string[] = [];
    for (const child of children) if (await looksLikeRun(child)) runs.push(child);
    out.push(...(runs.length > 0 ? runs : [dir]));
  }
  return out;
}

async function subfolders(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory()).map((e) => join(dir, e.name)).sort();
  } catch {
    return [];
  }
}

export async function generateReport(options: GenerateReportOptions): Promise<GenerateReportResult> {
  if (options.runDirs.length === 0) {
    throw new Error("generateReport: no run folders given (expected e.g. runs/* or runs/)");
  }
  const dirs = await expandRunDirs(options.runDirs);
  const read = await readRuns(dirs);
  // A mistyped path must not pass as a report with a problem note inside it: refused before anything is written.
  const leftOut = read.flatMap((r) => (r.unreadable === undefined ? [] : [{ path: r.dir, reason: r.unreadable }]));
  const runs = read.filter((r) => r.unreadable === undefined);
  if (leftOut.length > 0 && (!options.partial || runs.length === 0)) throw new UnreadableRunsError(leftOut, runs.length);
  const ctx = new ReportContext();
  for (const u of leftOut) ctx.problems.push(`left out ${u.path}: ${u.reason}`);
  for (const run of runs) ctx.problems.push(...run.problems);

  let gradcheck: GradcheckResult[] | undefined;
  if (options.gradcheckJson !== undefined) {
    const parsed = typeof options.gradcheckJson === "string"
      ? await readGradcheck(options.gradcheckJson)
      : checkGradcheck(options.gradcheckJson, "(given as an object)");
    ctx.problems.push(...parsed.problems);
    // Output that could not be read at all counts as none given (its problem is listed), rather than as
    // "nothing matched".
    gradcheck = parsed.results.length === 0 && parsed.problems.length > 0 ? undefined : parsed.results;
  }

  // Sections are built in page order so element ids come out in the same order every time.
  const runsHtml: string[] = [];
  const summary = await summarySection(runs, ctx);
  const comparisons = await comparisonSection(runs, ctx);
  for (const run of runs) runsHtml.push(await runSection(run, ctx));
  const gradients = gradientsSection(gradcheck);

  const generatedAt = options.generatedAt ?? new Date();
  const html = renderPage({
    title: options.title ?? "backprop — training report",
    subtitle: `${runs.length} run${runs.length === 1 ? "" : "s"} · generated ${escapeHtml(generatedAt.toISOString())}`,
    problems: ctx.problems,
    sections: [
      { id: ctx.ids.next("summary"), title: "Summary", html: summary },
      { id: ctx.ids.next("comparisons"), title: "Comparisons", html: comparisons },
      { id: ctx.ids.next("runs"), title: "Runs", html: runsHtml.join("\n") },
      { id: ctx.ids.next("gradients"), title: "Gradients", html: gradients },
    ],
    footer: `Made by <code>@backprop/report</code> from the run records in ${
      [...new Set(runs.map((r) => `<code>${escapeHtml(r.dir)}</code>`))].join(", ")
    }. Charts: Vega-Lite, rendered to SVG.`,
  });

  await mkdir(options.outDir, { recursive: true });
  const htmlPath = resolve(options.outDir, HTML_FILE);
  await writeFileAtomic(htmlPath, html);

  const result: GenerateReportResult = { htmlPath, problems: ctx.problems, runs, leftOut };
  if (options.pdf ?? true) {
    const chromiumPath = options.chromiumPath ?? CHROMIUM_PATH;
    if (!(await chromiumAvailable(chromiumPath))) {
      result.pdfSkipped = `no PDF: Chromium is not installed at ${chromiumPath} (Debian: apt-get install chromium)`;
    } else {
      const pdfPath = resolve(options.outDir, PDF_FILE);
      try {
        await printPdf(htmlPath, pdfPath, chromiumPath);
        result.pdfPath = pdfPath;
      } catch (error) {
        // The HTML is written and complete; a browser that fails to start must not take it down with it.
        result.pdfSkipped = `no PDF: printing with ${chromiumPath} failed: ${(error as Error).message.split("\n")[0]}`;
      }
    }
  }
  return result;
}

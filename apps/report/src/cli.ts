// The command line: `main.ts RUN_DIR... [-o OUT_DIR] [--gradcheck FILE] [--no-pdf] [--partial]`.
import { parseArgs } from "node:util";
import { generateReport, type GenerateReportOptions, UnreadableRunsError } from "./generate_report.ts";

export const USAGE = `Usage: report RUN_DIR... [options]

Builds one self-contained HTML report (OUT_DIR/index.html) from training run folders, and a PDF of it
(OUT_DIR/report.pdf) where Chromium is installed at /usr/bin/chromium.

  RUN_DIR              a run folder (runs/<name>), or a folder of runs (runs/)
  -o, --out DIR        where to write the report (default: report)
      --gradcheck FILE the output of \`gradcheck --json\`, shown under the backprop equations
      --title TEXT     the report's title
      --no-pdf         do not print a PDF
      --partial        leave out run paths that cannot be read (each named on stderr) instead of failing
  -h, --help           this text

Exit codes: 0 written; 1 a run path could not be read (each is named; nothing is written unless --partial and
some run could be read) or the report could not be written; 2 bad usage.
`;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

const consoleIo: CliIo = { out: (l) => console.log(l), err: (l) => console.error(l) };

/** Exit codes of the report command (the same from apps/report/main.ts and the CLI's `report`). */
export const REPORT_EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/**
 * Builds the report and says what happened on `io`; returns the exit code: 0 written (possibly with warnings),
 * 1 a run path could not be read or the report could not be written. Both entry points end here.
 */
export async function runReport(options: GenerateReportOptions, io: CliIo = consoleIo): Promise<number> {
  try {
    const result = await generateReport(options);
    for (const u of result.leftOut) io.err(`report: left out ${u.path}: ${u.reason}`);
    // The left-out paths head result.problems (for the page); here they were just named once already.
    for (const problem of result.problems.slice(result.leftOut.length)) io.err(`warning: ${problem}`);
    io.out(`report: ${result.runs.length} run(s) → ${result.htmlPath}`);
    if (result.pdfPath) io.out(`report: PDF → ${result.pdfPath}`);
    if (result.pdfSkipped) io.err(`report: ${result.pdfSkipped}`);
    return REPORT_EXIT.ok;
  } catch (error) {
    if (error instanceof UnreadableRunsError) {
      for (const u of error.unreadable) io.err(`report: cannot read run path ${u.path}: ${u.reason}`);
      io.err(
        error.readable === 0
          ? "report: no run could be read; nothing written"
          : `report: nothing written; --partial writes a report of the ${error.readable} run(s) that could be read`,
      );
      return REPORT_EXIT.failed;
    }
    io.err(`report: ${(error as Error).message}`);
    return REPORT_EXIT.failed;
  }
}

/** Runs the command; returns the exit code: 0 done (possibly with warnings), 1 failed, 2 bad usage. */
export async function runCli(argv: string[], io: CliIo = consoleIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        out: { type: "string", short: "o", default: "report" },
        gradcheck: { type: "string" },
        title: { type: "string" },
        "no-pdf": { type: "boolean", default: false },
        partial: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    io.err(`report: ${(error as Error).message}`);
    io.err(USAGE);
    return REPORT_EXIT.usage;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(USAGE);
    return REPORT_EXIT.ok;
  }
  if (positionals.length === 0) {
    io.err("report: no run folders given (e.g. report runs/* -o report/)");
    io.err(USAGE);
    return REPORT_EXIT.usage;
  }
  return await runReport({
    runDirs: positionals,
    outDir: values.out!,
    gradcheckJson: values.gradcheck,
    title: values.title,
    pdf: !values["no-pdf"],
    partial: values.partial,
  }, io);
}

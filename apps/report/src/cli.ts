// The command line: `main.ts RUN_DIR... [-o OUT_DIR] [--gradcheck FILE] [--no-pdf]`.
import { parseArgs } from "node:util";
import { generateReport } from "./generate_report.ts";

export const USAGE = `Usage: report RUN_DIR... [options]

Builds one self-contained HTML report (OUT_DIR/index.html) from training run folders, and a PDF of it
(OUT_DIR/report.pdf) where Chromium is installed at /usr/bin/chromium.

  RUN_DIR              a run folder (runs/<name>), or a folder of runs (runs/)
  -o, --out DIR        where to write the report (default: report)
      --gradcheck FILE the output of \`gradcheck --json\`, shown under the backprop equations
      --title TEXT     the report's title
      --no-pdf         do not print a PDF
  -h, --help           this text
`;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

const consoleIo: CliIo = { out: (l) => console.log(l), err: (l) => console.error(l) };

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
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    io.err(`report: ${(error as Error).message}`);
    io.err(USAGE);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  if (positionals.length === 0) {
    io.err("report: no run folders given (e.g. report runs/* -o report/)");
    io.err(USAGE);
    return 2;
  }
  try {
    const result = await generateReport({
      runDirs: positionals,
      outDir: values.out!,
      gradcheckJson: values.gradcheck,
      title: values.title,
      pdf: !values["no-pdf"],
    });
    for (const problem of result.problems) io.err(`warning: ${problem}`);
    io.out(`report: ${result.runs.length} run(s) → ${result.htmlPath}`);
    if (result.pdfPath) io.out(`report: PDF → ${result.pdfPath}`);
    if (result.pdfSkipped) io.err(`report: ${result.pdfSkipped}`);
    return 0;
  } catch (error) {
    io.err(`report: ${(error as Error).message}`);
    return 1;
  }
}

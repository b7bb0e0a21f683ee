// @backprop/report: run records (runs/<name>/) → one self-contained HTML report, and a PDF where Chromium is installed.
export {
  expandRunDirs,
  generateReport,
  type GenerateReportOptions,
  type GenerateReportResult,
  HTML_FILE,
  PDF_FILE,
  type UnreadableRun,
  UnreadableRunsError,
} from "./generate_report.ts";
export { type CliIo, REPORT_EXIT, runCli, runReport, USAGE } from "./cli.ts";
export { readRun, readRuns } from "./read_run.ts";
export { parseMetricsJsonl } from "./metrics_jsonl.ts";
export { type GradcheckReport } from "./gradcheck.ts";
export { CHROMIUM_ARGS, CHROMIUM_PATH, chromiumAvailable } from "./chromium.ts";
export type {
  FlagValue,
  GradcheckResult,
  MetricRow,
  Predictions,
  Run,
  RunConfig,
  RunSummary,
  Sample,
} from "./types.ts";

// Parses metrics.jsonl leniently: a run that was killed mid-write leaves a partial last line, and the
// lines before it are still worth plotting.
import type { MetricRow } from "./types.ts";

const NUMERIC_FIELDS = [
  "train_loss",
  "train_accuracy",
  "test_loss",
  "test_accuracy",
  "elapsed_s",
  "examples_per_s",
  "learning_rate",
] as const;

export interface ParsedMetrics {
  rows: MetricRow[];
  /** One message per line that could not be used, naming the line. */
  problems: string[];
}

/** Reads the lines of a metrics.jsonl text; bad lines are reported and skipped, never fatal. */
export function parseMetricsJsonl(text: string): ParsedMetrics {
  const rows: MetricRow[] = [];
  const problems: string[] = [];
  const lines = text.split("\n");
  const endsWithNewline = text.endsWith("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    const lineNo = i + 1;
    const isLast = i === lines.length - 1;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      problems.push(
        isLast && !endsWithNewline
          ? `metrics.jsonl line ${lineNo} is cut off (incomplete JSON, no closing newline: the file was ` +
            `probably being written when the run stopped); the ${rows.length} complete line(s) before it are used`
          : `metrics.jsonl line ${lineNo} is not valid JSON; skipped`,
      );
      continue;
    }
    const row = toMetricRow(value);
    if (typeof row === "string") {
      problems.push(`metrics.jsonl line ${lineNo}: ${row}; skipped`);
      continue;
    }
    rows.push(row);
  }
  rows.sort((a, b) => a.step - b.step);
  return { rows, problems };
}

/** A row, or a message saying why the value is not one. */
function toMetricRow(value: unknown): MetricRow | string {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return "expected a JSON object";
  }
  const record = value as Record<string, unknown>;
  if (typeof record.step !== "number" || !Number.isFinite(record.step)) {
    return `"step" is ${JSON.stringify(record.step) ?? "missing"}, expected a number`;
  }
  const row: MetricRow = { step: record.step };
  for (const field of NUMERIC_FIELDS) {
    const v = record[field];
    // A diverged run records NaN/Infinity as null or a string; those points are left out of the curves.
    if (typeof v === "number" && Number.isFinite(v)) row[field] = v;
  }
  return row;
}

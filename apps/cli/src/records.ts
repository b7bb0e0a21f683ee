import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { crc32cHex } from "@backprop/nn";
import { appendFileDurable, writeFileAtomic, writeJsonAtomic } from "./atomic.ts";
import { RunRecordError } from "./errors.ts";

/** One line of metrics.jsonl (docs/RUN_RECORDS.md). */
export interface MetricsLine {
  step: number;
  train_loss: number;
  train_accuracy: number;
  test_loss: number;
  test_accuracy: number;
  elapsed_s: number;
  examples_per_s: number;
  /** Learning rate of the window's last step (absent in records written before schedules existed). */
  learning_rate?: number;
}

export interface Summary {
  status: "completed" | "interrupted" | "diverged";
  steps: number;
  final_test_accuracy: number | null;
  best_test_accuracy: number | null;
  best_step: number | null;
  final_test_loss: number | null;
  wall_s: number;
  peak_rss_bytes: number;
  device: string;
  message?: string;
}

/** The files of one run folder; every write is atomic (metrics lines are appended whole). */
export class RunRecords {
  constructor(readonly dir: string) {}

  path(name: string): string {
    return join(this.dir, name);
  }

  writeConfig(config: unknown): void {
    writeJsonAtomic(this.path("config.json"), config);
  }

  readConfig(): Record<string, unknown> | null {
    const p = this.path("config.json");
    return existsSync(p) ? readJsonRecord(p) : null;
  }

  /** Appends one line, flushed to disk (a checkpoint that follows records the file's length and checksum). */
  appendMetrics(line: MetricsLine): void {
    appendFileDurable(this.path("metrics.jsonl"), JSON.stringify(line) + "\n");
  }

  /** Length and CRC-32C of metrics.jsonl as it is now, for the checkpoint to record. */
  metricsDigest(): { bytes: number; crc32c: string } {
    const p = this.path("metrics.jsonl");
    const data = existsSync(p) ? new Uint8Array(readFileSync(p)) : new Uint8Array(0);
    return { bytes: data.length, crc32c: crc32cHex(data) };
  }

  /**
   * Cuts metrics.jsonl back to what it was when the checkpoint at `step` was written (lines appended after it are
   * dropped, as the resumed run writes them again), after checking that those bytes are unchanged: a truncated or
   * edited file is a `RunRecordError` rather than a record with silent gaps.
   */
  restoreMetrics(digest: { bytes: number; crc32c: string }, step: number): void {
    const p = this.path("metrics.jsonl");
    const data = existsSync(p) ? new Uint8Array(readFileSync(p)) : new Uint8Array(0);
    const kept = data.subarray(0, digest.bytes);
    if (data.length < digest.bytes || crc32cHex(kept) !== digest.crc32c) {
      const found = data.length < digest.bytes ? `${data.length} bytes` : `CRC-32C ${crc32cHex(kept)} over them`;
      throw new RunRecordError(
        p,
        `the checkpoint at step ${step} recorded ${digest.bytes} bytes with CRC-32C ${digest.crc32c}, found ${found}; ` +
          `the file was truncated or changed (restore it, or start the run over with --overwrite)`,
      );
    }
    if (data.length > digest.bytes) writeFileAtomic(p, kept);
  }

  /** Metrics lines up to and including `step` (lines after a checkpoint are dropped on resume). */
  readMetrics(): MetricsLine[] {
    const p = this.path("metrics.jsonl");
    if (!existsSync(p)) return [];
    return readFileSync(p, "utf8").split("\n").filter((l) => l.trim()).flatMap((l) => {
      try {
        return [JSON.parse(l) as MetricsLine];
      } catch {
        return []; // a line cut by a crash mid-write
      }
    });
  }

  /** Keeps only the metrics lines at or before `step`, rewriting the file atomically. */
  truncateMetrics(step: number): MetricsLine[] {
    const kept = this.readMetrics().filter((m) => m.step <= step);
    writeFileAtomic(this.path("metrics.jsonl"), kept.map((m) => JSON.stringify(m) + "\n").join(""));
    return kept;
  }

  writeSummary(summary: Summary): void {
    writeJsonAtomic(this.path("summary.json"), summary);
  }

  writePredictions(predictions: unknown): void {
    writeJsonAtomic(this.path("predictions.json"), predictions);
  }

  writeCheckpoint(bytes: Uint8Array): void {
    writeFileAtomic(this.path("checkpoint.safetensors"), bytes);
  }

  readCheckpoint(): Uint8Array | null {
    const p = this.path("checkpoint.safetensors");
    return existsSync(p) ? new Uint8Array(readFileSync(p)) : null;
  }
}

/** A run's JSON record, or a `RunRecordError` naming the file when it is not JSON (truncated, damaged). */
export function readJsonRecord(file: string): Record<string, unknown> {
  const text = readFileSync(file, "utf8");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new RunRecordError(file, `not valid JSON (${(e as Error).message}); the file is truncated or damaged`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new RunRecordError(file, "expected a JSON object");
  return value as Record<string, unknown>;
}

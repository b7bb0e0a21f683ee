import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "./atomic.ts";

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
    return existsSync(p) ? JSON.parse(readFileSync(p, "utf8")) : null;
  }

  appendMetrics(line: MetricsLine): void {
    appendFileSync(this.path("metrics.jsonl"), JSON.stringify(line) + "\n");
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

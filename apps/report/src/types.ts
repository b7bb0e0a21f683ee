// The shapes of the run-record files (docs/RUN_RECORDS.md) as the report reads them, and the loaded run.

/** A flag's value as `config.json` records it. */
export type FlagValue = string | number | boolean | null | FlagValue[] | { [key: string]: FlagValue };

/** `config.json`, written at the start of a run. */
export interface RunConfig {
  name?: string;
  model?: string;
  flags: Record<string, FlagValue>;
  device?: string;
  seed?: number;
  versions?: Record<string, string>;
  git_commit?: string;
  started_at?: string;
}

/** One line of `metrics.jsonl`. A field the line lacks is `undefined`. */
export interface MetricRow {
  step: number;
  train_loss?: number;
  train_accuracy?: number;
  test_loss?: number;
  test_accuracy?: number;
  elapsed_s?: number;
  examples_per_s?: number;
  /** Learning rate of the line's last step (records written before schedules lack it). */
  learning_rate?: number;
}

/** `summary.json`, written at the end of a run. */
export interface RunSummary {
  status?: "completed" | "interrupted" | "diverged" | string;
  steps?: number;
  final_test_accuracy?: number;
  best_test_accuracy?: number;
  best_step?: number;
  final_test_loss?: number;
  wall_s?: number;
  peak_rss_bytes?: number;
  device?: string;
}

/** A test image with its label and the model's guess; `image` is base64 of 3,072 CHW uint8 pixels. */
export interface Sample {
  index: number;
  label: number;
  predicted: number;
  confidence: number;
  image: string;
}

/** `predictions.json`, written at the end of a run. */
export interface Predictions {
  classes: string[];
  confusion: number[][];
  per_class_accuracy: number[];
  samples: Sample[];
  worst: Sample[];
}

/** One entry of `gradcheck --json`. */
export interface GradcheckResult {
  name: string;
  kind: "op" | "module" | string;
  shapes: unknown;
  max_rel_error: number;
  tolerance: number;
  pass: boolean;
}

/** A run folder as read: whatever files could be read, and a message for each that could not. */
export interface Run {
  /** Unique within one report: the config's name, or the folder name, made unique if two collide. */
  id: string;
  dir: string;
  config?: RunConfig;
  metrics: MetricRow[];
  summary?: RunSummary;
  predictions?: Predictions;
  /** Messages that name the run and the file, e.g. a truncated metrics.jsonl. */
  problems: string[];
  /**
   * Set when nothing of the run could be read (the path does not exist, is not a folder, or holds no readable
   * run record): why, e.g. "does not exist". The report refuses such a path unless asked for a partial report.
   */
  unreadable?: string;
}

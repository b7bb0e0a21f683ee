import { UsageError } from "./errors.ts";

export const MODELS = ["mlp-manual", "mlp", "mlp-bn", "cnn"] as const;
export type ModelName = (typeof MODELS)[number];
export const OPTIMIZERS = ["sgd", "adam", "adamw"] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];
export const DEVICES = ["cpu", "webgpu", "auto"] as const;
export type DeviceFlag = (typeof DEVICES)[number];
export const BN_IMPLS = ["manual", "autograd", "builtin"] as const;
export type BatchNormImpl = (typeof BN_IMPLS)[number];
export const NORMALIZATIONS = ["mean-image", "per-channel", "none"] as const;
/** mean-image: minus the per-pixel mean image (the course's); per-channel: (x − mean_c) / std_c; none: raw 0–255. */
export type NormalizationName = (typeof NORMALIZATIONS)[number];
export const LR_SCHEDULES = ["constant", "cosine"] as const;
/** constant: the learning rate throughout; cosine: linear warm-up, then cosine decay to 0 at max_steps. */
export type LrScheduleName = (typeof LR_SCHEDULES)[number];
/** Test-time augmentation of `eval`: none, or the mean of the class probabilities of each image and its mirror image. */
export const TTA_MODES = ["none", "flip"] as const;
export type TtaMode = (typeof TTA_MODES)[number];
export const INITS = ["assignment", "pytorch"] as const;
/** assignment: weights N(0, 0.0001²), biases 0 (the course's); pytorch: PyTorch's default initialisation. */
export type InitName = (typeof INITS)[number];

/** Everything a training run is configured by; `config.json` records it with snake_case keys. */
export interface TrainConfig {
  model: ModelName;
  dnnHiddenUnits: number[];
  learningRate: number;
  lrSchedule: LrScheduleName;
  /** Steps of linear warm-up before the cosine decay (cosine schedule only). */
  warmupSteps: number;
  maxSteps: number;
  batchSize: number;
  evalFreq: number;
  evalBatchSize: number;
  /** Evaluate on the first n test images only (0: all), for quick checks. */
  evalSubset: number;
  dataDir?: string;
  optimizer: OptimizerName;
  momentum: number;
  weightDecay: number;
  seed: number;
  device: DeviceFlag;
  validationSize: number;
  normalize: NormalizationName;
  augment: boolean;
  batchNorm: BatchNormImpl;
  init: InitName;
  dropout: number;
  out?: string;
  resume: boolean;
  /** Start over in an existing run folder (its run files are deleted first). */
  overwrite?: boolean;
  progress: "auto" | "bar" | "lines" | "none";
  /**
   * The flags given on the command line (snake_case names); with `resume`, only these may differ from the run's
   * recorded flags. Absent (a programmatic call): every flag counts as given.
   */
  explicit?: readonly string[];
}

/** The assignment's defaults: the MLP parts, and the ConvNet part (Adam, 1e-4, batch 32, 5,000 steps). */
export function defaultsFor(
  model: ModelName,
): Pick<TrainConfig, "learningRate" | "maxSteps" | "batchSize" | "evalFreq" | "evalBatchSize" | "optimizer" | "init"> {
  // The CNN evaluates in chunks of 100: its activations for 500 images would double the run's peak memory.
  return model === "cnn"
    ? { learningRate: 1e-4, maxSteps: 5000, batchSize: 32, evalFreq: 500, evalBatchSize: 100, optimizer: "adam", init: "pytorch" }
    : { learningRate: 2e-3, maxSteps: 1500, batchSize: 200, evalFreq: 100, evalBatchSize: 500, optimizer: "sgd", init: "assignment" };
}

/** `--learning-rate` and `--learning_rate` are the same flag: the canonical names use underscores. */
export function normalizeFlagNames(argv: readonly string[]): string[] {
  return argv.map((arg) => {
    if (!arg.startsWith("--") || arg === "--") return arg;
    const eq = arg.indexOf("=");
    const name = eq < 0 ? arg : arg.slice(0, eq);
    return "--" + name.slice(2).replaceAll("-", "_") + (eq < 0 ? "" : arg.slice(eq));
  });
}

export function parseChoice<T extends string>(flag: string, choices: readonly T[], value: string): T {
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(`--${flag}: expected one of ${choices.join(", ")}, got "${value}"`);
  }
  return value as T;
}

export function parseNumber(flag: string, value: string, check: { integer?: boolean; min?: number; minExclusive?: number } = {}): number {
  const n = Number(value);
  const what = check.integer ? "an integer" : "a number";
  if (value.trim() === "" || !Number.isFinite(n)) throw new UsageError(`--${flag}: expected ${what}, got "${value}"`);
  if (check.integer && !Number.isInteger(n)) throw new UsageError(`--${flag}: expected ${what}, got "${value}"`);
  if (check.min !== undefined && n < check.min) throw new UsageError(`--${flag}: must be at least ${check.min}, got ${value}`);
  if (check.minExclusive !== undefined && n <= check.minExclusive) {
    throw new UsageError(`--${flag}: must be greater than ${check.minExclusive}, got ${value}`);
  }
  return n;
}

/** "100" → [100]; "512,256" → [512, 256]; "" → [] (no hidden layer: logistic regression). */
export function parseHiddenUnits(value: string): number[] {
  if (value.trim() === "") return [];
  return value.split(",").map((part, i) => {
    const p = part.trim();
    const n = Number(p);
    if (p === "" || !Number.isInteger(n) || n <= 0) {
      throw new UsageError(
        `--dnn_hidden_units: expected a comma-separated list of positive integers like "100" or "512,256", ` +
          `item ${i + 1} is "${part}" in "${value}"`,
      );
    }
    return n;
  });
}

/**
 * Flags that only some models or optimizers read. Given where nothing reads them they are refused rather than
 * silently ignored (a `--dropout 0.5` on the CNN would otherwise train without it), and config.json leaves them out.
 */
const SCOPED_FLAGS: Record<string, { applies: (c: Pick<TrainConfig, "model" | "optimizer">) => boolean; where: string }> = {
  dnn_hidden_units: { applies: (c) => c.model !== "cnn", where: "the MLPs (mlp-manual, mlp, mlp-bn)" },
  batch_norm: { applies: (c) => c.model === "mlp-bn", where: "mlp-bn" },
  dropout: { applies: (c) => c.model === "mlp" || c.model === "mlp-bn", where: "mlp and mlp-bn" },
  momentum: { applies: (c) => c.optimizer === "sgd" && c.model !== "mlp-manual", where: "--optimizer sgd on mlp, mlp-bn and cnn" },
  weight_decay: { applies: (c) => c.model !== "mlp-manual", where: "mlp, mlp-bn and cnn (mlp-manual is plain SGD)" },
};

/** Whether the run `c` describes reads `flag` (every flag but the SCOPED_FLAGS always is). */
function flagApplies(flag: string, c: Pick<TrainConfig, "model" | "optimizer">): boolean {
  return SCOPED_FLAGS[flag]?.applies(c) ?? true;
}

/** Refuses a flag given on the command line (`explicit`) that the configured model or optimizer would not use. */
export function checkFlagsApply(c: TrainConfig): void {
  const given = c.explicit ?? [];
  for (const flag of Object.keys(SCOPED_FLAGS)) {
    if (!given.includes(flag) || flagApplies(flag, c)) continue;
    const run = flag === "momentum" && c.model !== "mlp-manual" ? `${c.model} with --optimizer ${c.optimizer}` : c.model;
    throw new UsageError(`--${flag}: ${run} does not use it; it applies to ${SCOPED_FLAGS[flag].where}`);
  }
}

/** snake_case view of the config, as `config.json` stores the flags (only those the model and optimizer use). */
export function configFlags(c: TrainConfig): Record<string, unknown> {
  return Object.fromEntries(Object.entries(allFlags(c)).filter(([flag]) => flagApplies(flag, c)));
}

/** Every flag's value, used or not. */
function allFlags(c: TrainConfig): Record<string, unknown> {
  return {
    model: c.model,
    dnn_hidden_units: c.dnnHiddenUnits.join(","),
    learning_rate: c.learningRate,
    lr_schedule: c.lrSchedule,
    warmup_steps: c.warmupSteps,
    max_steps: c.maxSteps,
    batch_size: c.batchSize,
    eval_freq: c.evalFreq,
    eval_batch_size: c.evalBatchSize,
    eval_subset: c.evalSubset,
    data_dir: c.dataDir ?? null,
    optimizer: c.optimizer,
    momentum: c.momentum,
    weight_decay: c.weightDecay,
    seed: c.seed,
    device: c.device,
    validation_size: c.validationSize,
    normalize: c.normalize,
    augment: c.augment,
    batch_norm: c.batchNorm,
    init: c.init,
    dropout: c.dropout,
  };
}

/** Rebuilds a config from the `flags` object of a run's config.json (for `eval` and `--resume`). */
export function configFromFlags(flags: Record<string, unknown>, file: string): TrainConfig {
  const model = flags.model as ModelName;
  if (!(MODELS as readonly string[]).includes(model)) throw new UsageError(`${file}: unknown model "${String(model)}"`);
  const d = defaultsFor(model);
  const n = (k: string, fallback: number) => (typeof flags[k] === "number" ? (flags[k] as number) : fallback);
  return {
    model,
    dnnHiddenUnits: parseHiddenUnits(String(flags.dnn_hidden_units ?? "100")),
    learningRate: n("learning_rate", d.learningRate),
    lrSchedule: (flags.lr_schedule as LrScheduleName) ?? "constant",
    warmupSteps: n("warmup_steps", 0),
    maxSteps: n("max_steps", d.maxSteps),
    batchSize: n("batch_size", d.batchSize),
    evalFreq: n("eval_freq", d.evalFreq),
    evalBatchSize: n("eval_batch_size", d.evalBatchSize),
    evalSubset: n("eval_subset", 0),
    dataDir: (flags.data_dir as string | null) ?? undefined,
    optimizer: (flags.optimizer as OptimizerName) ?? d.optimizer,
    momentum: n("momentum", 0),
    weightDecay: n("weight_decay", 0),
    seed: n("seed", 42),
    device: (flags.device as DeviceFlag) ?? "cpu",
    validationSize: n("validation_size", 0),
    normalize: (flags.normalize as NormalizationName) ?? "mean-image",
    augment: flags.augment === true,
    batchNorm: (flags.batch_norm as BatchNormImpl) ?? "manual",
    init: (flags.init as InitName) ?? d.init,
    dropout: n("dropout", 0),
    resume: false,
    progress: "auto",
  };
}

/** Flags a resumed run may change: where the data is, what runs it, how it reports, and how long it goes on. */
export const CHANGEABLE_ON_RESUME: ReadonlySet<string> = new Set(["max_steps", "data_dir", "device", "eval_batch_size", "eval_subset"]);

/**
 * The config a `--resume` continues: the flags recorded in the run's config.json, except the changeable ones
 * given now. A given flag that would change how the run trains is an error naming both values, so a resumed
 * run is the run that was started (a forgotten `--augment` would otherwise silently train a different model).
 */
export function resumeConfig(given: TrainConfig, recordedFlags: Record<string, unknown>, file: string): TrainConfig {
  const saved = configFromFlags(recordedFlags, file);
  if (saved.model !== given.model) {
    throw new UsageError(`--resume: ${file} records a ${saved.model} run, got model ${given.model}`);
  }
  // Compared over the flags the recorded run uses; a given flag it does not use is refused below.
  const [now, then] = [allFlags(given), configFlags(saved)];
  const isGiven = (k: string) => given.explicit === undefined || given.explicit.includes(k);
  const conflicts = Object.keys(then).filter((k) => isGiven(k) && !CHANGEABLE_ON_RESUME.has(k) && JSON.stringify(now[k]) !== JSON.stringify(then[k]));
  if (conflicts.length > 0) {
    const show = (flags: Record<string, unknown>) => conflicts.map((k) => `--${k} ${String(flags[k])}`).join(" ");
    throw new UsageError(
      `--resume: ${file} records ${show(then)}, got ${show(now)}; leave ${conflicts.length === 1 ? "it" : "them"} out to continue the run as it was started`,
    );
  }
  const pick = <K extends keyof TrainConfig>(flag: string, key: K): TrainConfig[K] => (isGiven(flag) ? given[key] : saved[key]);
  const config: TrainConfig = {
    ...saved,
    maxSteps: pick("max_steps", "maxSteps"),
    dataDir: pick("data_dir", "dataDir"),
    device: pick("device", "device"),
    evalBatchSize: pick("eval_batch_size", "evalBatchSize"),
    evalSubset: pick("eval_subset", "evalSubset"),
    out: given.out,
    resume: true,
    progress: given.progress,
    explicit: given.explicit,
  };
  checkFlagsApply(config);
  if (config.warmupSteps >= config.maxSteps) {
    throw new UsageError(`--max_steps: the run warms up for ${config.warmupSteps} steps; expected more than that, got ${config.maxSteps}`);
  }
  return config;
}

import { Command, CommanderError, Option } from "commander";
import { EXIT, UsageError } from "./errors.ts";
import {
  BN_IMPLS,
  checkFlagsApply,
  DEVICES,
  defaultsFor,
  INITS,
  LR_SCHEDULES,
  NORMALIZATIONS,
  MODELS,
  type ModelName,
  normalizeFlagNames,
  OPTIMIZERS,
  parseChoice,
  parseHiddenUnits,
  parseNumber,
  type TrainConfig,
  TTA_MODES,
  type TtaMode,
} from "./flags.ts";

export interface Handlers {
  train(config: TrainConfig): Promise<number>;
  eval(checkpoint: string, options: { dataDir?: string; device: string; evalBatchSize: number; json: boolean; tta: TtaMode }): Promise<number>;
  gradcheck(options: { json: boolean }): Promise<number>;
  download(options: { cacheDir?: string }): Promise<number>;
  report(runDirs: string[], options: { out: string; gradcheck?: string; pdf: boolean; partial: boolean }): Promise<number>;
}

const num = (flag: string, check: Parameters<typeof parseNumber>[2] = {}) => (v: string) => parseNumber(flag, v, check);

/** The command-line program: train, eval, gradcheck, download and report, with the assignment's flags. */
export function buildProgram(handlers: Handlers, setExit: (code: number) => void, stderr: (s: string) => void = console.error): Command {
  // Output settings first: subcommands copy them when they are created.
  const program = new Command("backprop")
    .description("Train and evaluate MLPs and CNNs on CIFAR-10")
    .configureOutput({ writeErr: (s) => stderr(s.trimEnd()), outputError: (s, write) => write(s) })
    .showHelpAfterError("(run with --help for the flags)")
    .exitOverride();

  const train = program.command("train")
    .description("train a model on CIFAR-10 (mlp-manual, mlp, mlp-bn, cnn)")
    .argument("<model>", `one of ${MODELS.join(", ")}`, (v: string) => parseChoice("model", MODELS, v))
    .addOption(new Option("--dnn_hidden_units <units>", "hidden layer sizes, comma-separated (MLPs)").default("100"))
    .addOption(new Option("--learning_rate <lr>", "learning rate [default: 2e-3; cnn 1e-4]").argParser(num("learning_rate", { minExclusive: 0 })))
    .addOption(new Option("--lr_schedule <name>", "constant, or cosine: linear warm-up, then cosine decay to 0 at max_steps").default("constant").argParser((v: string) => parseChoice("lr_schedule", LR_SCHEDULES, v)))
    .addOption(new Option("--warmup_steps <n>", "steps of linear warm-up (cosine schedule)").default(0).argParser(num("warmup_steps", { integer: true, min: 0 })))
    .addOption(new Option("--max_steps <n>", "training steps [default: 1500; cnn 5000]").argParser(num("max_steps", { integer: true, min: 1 })))
    .addOption(new Option("--batch_size <n>", "batch size [default: 200; cnn 32]").argParser(num("batch_size", { integer: true, min: 1 })))
    .addOption(new Option("--eval_freq <n>", "evaluate on the test set every n steps [default: 100; cnn 500]").argParser(num("eval_freq", { integer: true, min: 1 })))
    .addOption(new Option("--eval_batch_size <n>", "chunk size of evaluation [default: 500; cnn 100]").argParser(num("eval_batch_size", { integer: true, min: 1 })))
    .addOption(new Option("--eval_subset <n>", "evaluate on the first n test images only (0: all; for quick checks)").default(0).argParser(num("eval_subset", { integer: true, min: 0 })))
    .addOption(new Option("--data_dir <path>", "CIFAR-10 folder or .tar.gz (else $BACKPROP_CIFAR10, the cache, or a download)"))
    .addOption(new Option("--optimizer <name>", "sgd, adam or adamw [default: sgd; cnn adam]").argParser((v: string) => parseChoice("optimizer", OPTIMIZERS, v)))
    .addOption(new Option("--momentum <m>", "SGD momentum").default(0).argParser(num("momentum", { min: 0 })))
    .addOption(new Option("--weight_decay <wd>", "L2 weight decay (decoupled for adamw)").default(0).argParser(num("weight_decay", { min: 0 })))
    .addOption(new Option("--seed <n>", "seed of initialisation, shuffling, dropout and augmentation").default(42).argParser(num("seed", { integer: true, min: 0 })))
    .addOption(new Option("--device <name>", `${DEVICES.join(", ")} (auto: WebGPU when an adapter exists)`).default("cpu").argParser((v: string) => parseChoice("device", DEVICES, v)))
    .addOption(new Option("--validation_size <n>", "hold out the first n training images").default(0).argParser(num("validation_size", { integer: true, min: 0 })))
    .addOption(new Option("--normalize <how>", "mean-image (the course's: minus the mean training image), per-channel ((x − mean) / std per channel) or none").default("mean-image").argParser((v: string) => parseChoice("normalize", NORMALIZATIONS, v)))
    .addOption(new Option("--augment", "random crop (padding 4) and horizontal flip").default(false))
    .addOption(new Option("--batch_norm <impl>", `mlp-bn: ${BN_IMPLS.join(", ")} batch norm`).default("manual").argParser((v: string) => parseChoice("batch_norm", BN_IMPLS, v)))
    .addOption(new Option("--init <name>", "assignment: N(0, 0.0001²) weights, zero biases; pytorch: PyTorch's defaults [default: assignment; cnn pytorch]").argParser((v: string) => parseChoice("init", INITS, v)))
    .addOption(new Option("--dropout <p>", "dropout probability after each hidden layer (mlp, mlp-bn)").default(0).argParser(num("dropout", { min: 0 })))
    .addOption(new Option("--out <dir>", "run folder [default: runs/<model>-s<seed>-<time>]"))
    .addOption(new Option("--resume", "continue the run in --out from its last checkpoint").default(false))
    .addOption(new Option("--overwrite", "start over in an existing --out folder, deleting its run files").default(false))
    .addOption(new Option("--progress <mode>", "auto, bar, lines or none").default("auto").argParser((v: string) => parseChoice("progress", ["auto", "bar", "lines", "none"] as const, v)))
    .action(async (model: ModelName, o: Record<string, unknown>, cmd: Command) => {
      const d = defaultsFor(model);
      const explicit = cmd.options.map((opt) => opt.attributeName()).filter((name) => cmd.getOptionValueSource(name) === "cli");
      if ((o.dropout as number) >= 1) throw new UsageError(`--dropout: must be below 1, got ${o.dropout}`);
      const config: TrainConfig = {
        model,
        dnnHiddenUnits: parseHiddenUnits(o.dnn_hidden_units as string),
        learningRate: (o.learning_rate as number | undefined) ?? d.learningRate,
        lrSchedule: o.lr_schedule as TrainConfig["lrSchedule"],
        warmupSteps: o.warmup_steps as number,
        maxSteps: (o.max_steps as number | undefined) ?? d.maxSteps,
        batchSize: (o.batch_size as number | undefined) ?? d.batchSize,
        evalFreq: (o.eval_freq as number | undefined) ?? d.evalFreq,
        evalBatchSize: (o.eval_batch_size as number | undefined) ?? d.evalBatchSize,
        evalSubset: o.eval_subset as number,
        dataDir: o.data_dir as string | undefined,
        optimizer: (o.optimizer as TrainConfig["optimizer"] | undefined) ?? d.optimizer,
        momentum: o.momentum as number,
        weightDecay: o.weight_decay as number,
        seed: o.seed as number,
        device: o.device as TrainConfig["device"],
        validationSize: o.validation_size as number,
        normalize: o.normalize as TrainConfig["normalize"],
        augment: o.augment as boolean,
        batchNorm: o.batch_norm as TrainConfig["batchNorm"],
        init: (o.init as TrainConfig["init"] | undefined) ?? d.init,
        dropout: o.dropout as number,
        out: o.out as string | undefined,
        resume: o.resume as boolean,
        overwrite: o.overwrite as boolean,
        progress: o.progress as TrainConfig["progress"],
        explicit,
      };
      if (config.model === "mlp-manual" && config.optimizer !== "sgd") {
        throw new UsageError(`--optimizer: mlp-manual updates its weights by plain SGD only, got "${config.optimizer}"`);
      }
      if (config.model === "mlp-manual" && config.init !== "assignment") {
        throw new UsageError(`--init: mlp-manual initialises the assignment's way only, got "${config.init}"`);
      }
      if (config.warmupSteps > 0 && config.lrSchedule !== "cosine") {
        throw new UsageError(`--warmup_steps: only the cosine schedule warms up; add --lr_schedule cosine (got --lr_schedule ${config.lrSchedule})`);
      }
      if (config.warmupSteps >= config.maxSteps) {
        throw new UsageError(`--warmup_steps: must be below --max_steps (${config.maxSteps}), got ${config.warmupSteps}`);
      }
      if (config.resume && !config.out) throw new UsageError("--resume needs --out <dir> of the run to continue");
      // A resumed run's model and optimizer come from its records: resumeConfig checks the flags against those.
      if (!config.resume) checkFlagsApply(config);
      setExit(await handlers.train(config));
    });
  train.addHelpText(
    "after",
    "\nFlags also accept kebab-case (--learning-rate). --debug (any command) adds the stack trace to an error.\n" +
      "Exit codes: 0 done, 1 failed (data, damaged files, I/O, divergence), 2 bad usage, 3 run folder in use, 77 a missing Deno permission, 130 interrupted.",
  );

  program.command("eval")
    .description("test accuracy, loss and per-class accuracy of a saved run or checkpoint")
    .argument("<checkpoint>", "a run folder or its checkpoint.safetensors")
    .addOption(new Option("--data_dir <path>", "CIFAR-10 folder or .tar.gz"))
    .addOption(new Option("--device <name>", DEVICES.join(", ")).default("cpu").argParser((v: string) => parseChoice("device", DEVICES, v)))
    .addOption(new Option("--eval_batch_size <n>", "chunk size").default(100).argParser(num("eval_batch_size", { integer: true, min: 1 })))
    .addOption(new Option("--tta <mode>", "test-time augmentation: none, or flip (mean of the probabilities of each image and its mirror image; twice the work)").default("none").argParser((v: string) => parseChoice("tta", TTA_MODES, v)))
    .addOption(new Option("--json", "print JSON").default(false))
    .action(async (checkpoint: string, o: Record<string, unknown>) => {
      setExit(await handlers.eval(checkpoint, {
        dataDir: o.data_dir as string | undefined, device: o.device as string,
        evalBatchSize: o.eval_batch_size as number, json: o.json as boolean, tta: o.tta as TtaMode,
      }));
    });

  program.command("gradcheck")
    .description("check every differentiable op and manual module against float64 finite differences")
    .addOption(new Option("--json", "print JSON (the report reads it)").default(false))
    .action(async (o: { json: boolean }) => setExit(await handlers.gradcheck(o)));

  program.command("download")
    .description("download and verify CIFAR-10 into the cache")
    .addOption(new Option("--cache_dir <dir>", "cache folder [default: $XDG_CACHE_HOME/backprop or ~/.cache/backprop]"))
    .action(async (o: { cache_dir?: string }) => setExit(await handlers.download({ cacheDir: o.cache_dir })));

  program.command("report")
    .description("build an HTML (and PDF) report from run folders")
    .argument("<runs...>", "run folders")
    .addOption(new Option("-o, --out <dir>", "output folder").default("report"))
    .addOption(new Option("--gradcheck <file>", "gradcheck --json output to include"))
    .addOption(new Option("--no_pdf", "skip the PDF even when Chromium is installed"))
    .addOption(new Option("--partial", "leave out run paths that cannot be read (each named) instead of failing").default(false))
    .action(async (runs: string[], o: { out: string; gradcheck?: string; pdf?: boolean; no_pdf?: boolean; partial: boolean }) => {
      setExit(await handlers.report(runs, { out: o.out, gradcheck: o.gradcheck, pdf: o.no_pdf !== true && o.pdf !== false, partial: o.partial }));
    });

  return program;
}

/** Parses `argv` (without the runtime and script) and runs the command; returns the exit code. */
export async function runCli(argv: readonly string[], handlers: Handlers, stderr: (s: string) => void = console.error): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(handlers, (c) => (code = c), stderr);
  try {
    await program.parseAsync(normalizeFlagNames(argv), { from: "user" });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit 0; parse errors (unknown command/flag, missing argument) are usage errors.
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (e instanceof UsageError) {
      stderr(`error: ${e.message}`);
      return EXIT.usage;
    }
    throw e;
  }
}

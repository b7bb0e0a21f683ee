// The assignment's default MLP job (what `train mlp-manual` runs with its defaults), in-process and timed by
// phase — load (read + mean-image preprocessing), train (1,500 SGD steps; batch assembly timed apart too) and
// evaluate (15 passes over the test set) — next to the same job in NumPy (bench/numpy_mlp.py, same phases).
// Both run as fresh processes, alternating, so they share the machine's state; the table shows medians and
// backprop / NumPy per phase. The CLI adds run records and checkpoints on top; bench/main.ts times that
// whole command separately.
//
//   deno run -A bench/mlp_job.ts DATA_DIR [--rounds R] [--steps N] [--eval_batch_size B] [--no-numpy]
//   deno run -A bench/mlp_job.ts DATA_DIR --json [--steps N] [--eval_batch_size B]   one in-process run, one JSON line
import { BatchBuffer, loadCifar10 } from "@backprop/datasets";
import { CrossEntropyModule, ManualMLP } from "@backprop/nn";
import { Generator, type NDArray, tidy } from "@backprop/tensor";
import { blasLabel, referenceBlasCaveat } from "./blas.ts";

export interface JobTimes {
  load_s: number;
  train_s: number;
  evaluate_s: number;
  wall_s: number;
  test_accuracy: number;
  /** Part of train_s spent assembling batches (bytes → preprocessed float32) and making their tensors. */
  batch_s?: number;
}

export interface JobOptions {
  steps?: number;
  evalFreq?: number;
  batchSize?: number;
  evalBatchSize?: number;
  learningRate?: number;
  seed?: number;
}

export async function runMlpJob(dataDir: string, options: JobOptions = {}): Promise<JobTimes> {
  const { steps = 1500, evalFreq = 100, batchSize = 200, evalBatchSize = 500, learningRate = 2e-3, seed = 42 } = options;
  const start = performance.now();
  const data = await loadCifar10({ dataDir, normalization: "mean-image", seed });
  const load = performance.now() - start;

  const mlp = new ManualMLP(3072, [100], 10, { generator: new Generator(seed) });
  const ce = new CrossEntropyModule();
  // The test split as one float32 (N, 3072) array, built on the first evaluation (and timed there) rather than
  // gathered and converted again on every pass; each chunk is then a view of it.
  let testSet: { images: NDArray; labels: NDArray } | null = null;
  const evaluate = (): number => {
    const n = data.test.numExamples;
    if (!testSet) {
      const all = data.test.gather(Array.from({ length: n }, (_, i) => i));
      testSet = { images: all.images.reshape([n, -1]), labels: all.labels };
    }
    const { images, labels } = testSet;
    let correct = 0;
    for (let from = 0; from < n; from += evalBatchSize) {
      const size = Math.min(evalBatchSize, n - from);
      correct += tidy(() => {
        const probs = mlp.forward(images.narrow(0, from, size));
        mlp.clearCache();
        return probs.argmax(1).eq(labels.narrow(0, from, size)).sum().itemSync();
      });
    }
    return correct / n;
  };

  // One buffer for every training batch: each is done with before the next is assembled.
  const buffer = new BatchBuffer(batchSize);
  let train = 0, batching = 0, evaluation = 0, accuracy = NaN;
  for (let step = 1; step <= steps; step++) {
    const t = performance.now();
    const batch = data.train.nextBatch(batchSize, { into: buffer });
    void batch.images; // the tensors are made here, so this timer covers the upload too
    void batch.labels;
    batching += performance.now() - t;
    tidy(() => {
      const x: NDArray = batch.images.reshape([batch.size, -1]);
      const probs = mlp.forward(x);
      mlp.backward(ce.backward(probs, batch.labels), { inputGrad: false });
      mlp.sgdStep(learningRate);
      mlp.clearCache();
    });
    batch.dispose();
    train += performance.now() - t;
    if (step % evalFreq === 0 || step === steps) {
      const e = performance.now();
      accuracy = evaluate();
      evaluation += performance.now() - e;
    }
  }
  return {
    load_s: load / 1000,
    train_s: train / 1000,
    evaluate_s: evaluation / 1000,
    wall_s: (performance.now() - start) / 1000,
    test_accuracy: accuracy,
    batch_s: batching / 1000,
  };
}

/** A JSON-printing job in a fresh process: this script with --json under Deno, or bench/numpy_mlp.py. */
async function childJob(kind: "backprop" | "numpy", dataDir: string, extra: string[]): Promise<JobTimes & { blas?: string }> {
  const env = { ...Deno.env.toObject() };
  // NumPy's OpenBLAS runs its generic kernels with these set (PLATFORM.md); only the children lose them.
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const script = new URL(kind === "backprop" ? "./mlp_job.ts" : "./numpy_mlp.py", import.meta.url).pathname;
  const [command, args] = kind === "backprop"
    ? [Deno.execPath(), ["run", "-A", script, dataDir, "--json", ...extra]]
    : ["/usr/bin/python3", [script, dataDir, ...extra]];
  const r = await new Deno.Command(command, { args, env, clearEnv: true, stdout: "piped", stderr: "piped" }).output();
  if (!r.success) throw new Error(`${kind} job failed: ${new TextDecoder().decode(r.stderr).trim().split("\n").pop()}`);
  return JSON.parse(new TextDecoder().decode(r.stdout).trim().split("\n").pop()!);
}

const loadAverage = () => Deno.readTextFileSync("/proc/loadavg").trim();
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

if (import.meta.main) {
  const args = Deno.args;
  const option = (name: string) => {
    const at = args.indexOf(`--${name}`);
    return at >= 0 ? Number(args[at + 1]) : undefined;
  };
  const valued = new Set(["--steps", "--eval_batch_size", "--rounds"]);
  const dataDir = args.find((a, i) => !a.startsWith("--") && (i === 0 || !valued.has(args[i - 1]!)));
  if (!dataDir) {
    console.error("usage: deno run -A bench/mlp_job.ts DATA_DIR [--rounds R] [--steps N] [--eval_batch_size B] [--no-numpy] [--json]");
    Deno.exit(2);
  }
  const steps = option("steps"), evalBatchSize = option("eval_batch_size");
  if (args.includes("--json")) {
    console.log(JSON.stringify(await runMlpJob(dataDir, { steps, evalBatchSize })));
    Deno.exit(0);
  }
  const rounds = option("rounds") ?? 1;
  const numpy = !args.includes("--no-numpy");
  const before = loadAverage();
  const runs: Record<"backprop" | "numpy", (JobTimes & { blas?: string })[]> = { backprop: [], numpy: [] };
  for (let round = 0; round < rounds; round++) {
    if (numpy) {
      const numpyArgs = steps === undefined ? [] : ["--steps", String(steps)];
      runs.numpy.push(await childJob("numpy", dataDir, numpyArgs));
    }
    const ours = [...(steps === undefined ? [] : ["--steps", String(steps)]), ...(evalBatchSize === undefined ? [] : ["--eval_batch_size", String(evalBatchSize)])];
    runs.backprop.push(await childJob("backprop", dataDir, ours));
    console.error(`… round ${round + 1} of ${rounds}`);
  }
  const phases = ["load_s", "train_s", "evaluate_s", "wall_s"] as const;
  const med = (kind: "backprop" | "numpy", key: keyof JobTimes) => median(runs[kind].map((r) => r[key] as number));
  console.log(`default MLP job, ${steps ?? 1500} steps: medians of ${rounds} round(s), each a fresh process, NumPy first`);
  console.log(`load average before: ${before}; after: ${loadAverage()}\n`);
  console.log("| job | load s | train s | evaluate s | wall s | test accuracy |");
  console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
  const row = (label: string, kind: "backprop" | "numpy") =>
    console.log(`| ${label} | ${phases.map((p) => med(kind, p).toFixed(2)).join(" | ")} | ${med(kind, "test_accuracy").toFixed(4)} |`);
  row("backprop (bench/mlp_job.ts)", "backprop");
  const caveat = numpy ? referenceBlasCaveat("NumPy", runs.numpy[0]!.blas ?? "") : undefined;
  if (numpy) {
    row(`NumPy (bench/numpy_mlp.py; ${blasLabel(runs.numpy[0]!.blas ?? "unknown")})`, "numpy");
    if (!caveat) console.log(`| backprop / NumPy | ${phases.map((p) => (med("backprop", p) / med("numpy", p)).toFixed(2)).join(" | ")} | |`);
  }
  const batch = med("backprop", "batch_s");
  console.log(`\n- backprop batch assembly (inside train): ${batch.toFixed(2)} s, ${(batch / (steps ?? 1500) * 1000).toFixed(2)} ms per step`);
  if (caveat) console.log(`- backprop / NumPy: not printed: ${caveat}`);
  else if (numpy) console.log(`- wall backprop / NumPy: ${(med("backprop", "wall_s") / med("numpy", "wall_s")).toFixed(2)}`);
  Deno.exit(0);
}

// The assignment's default MLP job (what `train mlp-manual` runs with its defaults), in-process and timed by
// phase — load (read + mean-image preprocessing), train (1,500 SGD steps) and evaluate (15 passes over the test
// set) — the same phases bench/numpy_mlp.py times for NumPy. The CLI adds run records and checkpoints on top;
// bench/main.ts times that whole command separately.
//
//   deno run -A bench/mlp_job.ts DATA_DIR [--steps N] [--eval_batch_size B]     prints one JSON line
import { loadCifar10 } from "@backprop/datasets";
import { CrossEntropyModule, ManualMLP } from "@backprop/nn";
import { Generator, type NDArray, tidy } from "@backprop/tensor";

export interface JobTimes {
  load_s: number;
  train_s: number;
  evaluate_s: number;
  wall_s: number;
  test_accuracy: number;
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

  let train = 0, evaluation = 0, accuracy = NaN;
  for (let step = 1; step <= steps; step++) {
    const t = performance.now();
    const batch = data.train.nextBatch(batchSize);
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
  };
}

if (import.meta.main) {
  const args = Deno.args;
  const option = (name: string) => {
    const at = args.indexOf(`--${name}`);
    return at >= 0 ? Number(args[at + 1]) : undefined;
  };
  const dataDir = args.find((a, i) => !a.startsWith("--") && (i === 0 || !args[i - 1]!.startsWith("--")));
  if (!dataDir) {
    console.error("usage: deno run -A bench/mlp_job.ts DATA_DIR [--steps N] [--eval_batch_size B]");
    Deno.exit(2);
  }
  console.log(JSON.stringify(await runMlpJob(dataDir, { steps: option("steps"), evalBatchSize: option("eval_batch_size") })));
  Deno.exit(0);
}

import { noGrad } from "@backprop/autograd";
import type { DataSet } from "@backprop/datasets";
import { crossEntropy } from "@backprop/nn";
import { Tensor } from "@backprop/autograd";
import { arange, indexSelect, logSoftmax, logSumExp, type NDArray, softmax, stack, tidy, ValueError } from "@backprop/tensor";
import type { TtaMode } from "../flags.ts";
import type { Trainer } from "./trainer.ts";

export interface Evaluation {
  loss: number;
  accuracy: number;
  count: number;
  /** Per example (only when asked for): predicted class and its softmax probability. */
  predicted?: Int32Array;
  confidence?: Float32Array;
}

export interface EvaluateOptions {
  /** Images per chunk. */
  batchSize: number;
  /** Also return each example's prediction and confidence. */
  collect?: boolean;
  /** Evaluate the first n examples only (0: all). */
  limit?: number;
  tta?: TtaMode;
}

/**
 * Loss and accuracy over a whole split, in chunks of `batchSize` (never the whole set at once: that is what
 * runs a GPU out of memory), summed on the device and read back once.
 */
export async function evaluate(trainer: Trainer, data: DataSet, options: EvaluateOptions): Promise<Evaluation> {
  const { batchSize, collect = false, limit = 0, tta = "none" } = options;
  const n = limit > 0 ? Math.min(limit, data.numExamples) : data.numExamples;
  let lossSum: NDArray | null = null, correctSum: NDArray | null = null;
  const predicted = collect ? new Int32Array(n) : undefined;
  const confidence = collect ? new Float32Array(n) : undefined;
  for (let start = 0; start < n; start += batchSize) {
    const indices = Array.from({ length: Math.min(batchSize, n - start) }, (_, i) => start + i);
    const batch = data.gather(indices);
    const chunk = tidy(() =>
      noGrad(() => {
        // With TTA the scores are log mean probabilities: cross-entropy of them is −log p̄(label), and their
        // softmax is p̄ itself.
        const logits = tta === "flip" ? flipAveragedLogProbs(trainer, batch.images) : trainer.predict(batch.images);
        const loss = crossEntropy(new Tensor(logits), batch.labels, { reduction: "sum" }).value;
        const pred = logits.argmax(1);
        const correct = pred.eq(batch.labels).sum();
        const newLoss = lossSum ? lossSum.add(loss) : loss;
        const newCorrect = correctSum ? correctSum.add(correct) : correct;
        const probs = collect ? softmax(logits, 1).max(1) : null;
        return { newLoss, newCorrect, pred: collect ? pred : null, probs };
      })
    );
    lossSum?.dispose();
    correctSum?.dispose();
    lossSum = chunk.newLoss;
    correctSum = chunk.newCorrect;
    if (collect) {
      predicted!.set(await chunk.pred!.data() as Int32Array, start);
      confidence!.set(await chunk.probs!.data() as Float32Array, start);
      chunk.pred!.dispose();
      chunk.probs!.dispose();
    }
    batch.dispose();
  }
  const loss = lossSum ? (await lossSum.data())[0]! / n : NaN;
  const correct = correctSum ? (await correctSum.data())[0]! : 0;
  lossSum?.dispose();
  correctSum?.dispose();
  return { loss, accuracy: n ? correct / n : NaN, count: n, predicted, confidence };
}

/** log of the mean class probabilities of the images (N, C, H, W) and their left–right mirror images. */
export function flipAveragedLogProbs(trainer: Trainer, images: NDArray): NDArray {
  if (images.ndim !== 4) throw new ValueError(`--tta flip: expects images of shape (N, C, H, W), got ${images.ndim} dimensions`);
  const width = images.shape[3]!;
  const reversed = arange(width - 1, -1, -1, { dtype: "int32", device: images.device });
  const mirrored = indexSelect(images, 3, reversed);
  const views = stack([logSoftmax(trainer.predict(images), 1), logSoftmax(trainer.predict(mirrored), 1)]);
  // log((eᵃ + eᵇ) / 2) in log space, so a confident model's tiny probabilities do not round to 0.
  return logSumExp(views, 0).sub(Math.LN2);
}

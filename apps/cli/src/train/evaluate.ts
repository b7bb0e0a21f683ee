import { noGrad } from "@backprop/autograd";
import { BatchBuffer, type DataSet } from "@backprop/datasets";
import { crossEntropy } from "@backprop/nn";
import { Tensor } from "@backprop/autograd";
import { arange, indexSelect, keep, logSoftmax, logSumExp, type NDArray, softmax, stack, tidy, ValueError } from "@backprop/tensor";
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

/** One evaluation chunk as tensors on the data's device; `release` frees what is not cached. */
interface Chunk {
  images: NDArray;
  labels: NDArray;
  release(): void;
}

/**
 * A split prepared once for the many evaluations of a run: its first `limit` examples (0: all), preprocessed,
 * as float32 image and int32 label tensors on the data's device, one pair per chunk of `batchSize`, made on the
 * first pass and reused by every later one. Without it each of the default MLP job's 15 evaluations converts
 * the 10,000 test images from bytes again: a quarter of a CPU evaluation pass (241 against 180 ms, see
 * docs/PERFORMANCE.md).
 *
 * Cached on every device, chunk by chunk: each chunk is assembled into one reused staging buffer and copied
 * to the device, so the split is held once (123 MB of float32 for the 10,000 test images, in chunks small
 * enough for any WebGPU binding limit) and never whole twice. On WebGPU that memory also saves the
 * per-evaluation uploads; it is the run's to free: `dispose()` when the run ends.
 */
export class EvaluationSet {
  readonly data: DataSet;
  readonly batchSize: number;
  readonly limit: number;
  /** Examples evaluated. */
  readonly count: number;
  #chunks: { images: NDArray; labels: NDArray }[] = [];
  #staging: BatchBuffer | null = null;
  #disposed = false;

  constructor(data: DataSet, options: { batchSize: number; limit?: number }) {
    const { batchSize, limit = 0 } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new ValueError(`EvaluationSet: batchSize must be a positive integer, got ${batchSize}`);
    }
    this.data = data;
    this.batchSize = batchSize;
    this.limit = limit;
    this.count = limit > 0 ? Math.min(limit, data.numExamples) : data.numExamples;
  }

  /** The chunk starting at example `start` (a multiple of batchSize), made on first use. */
  chunk(start: number): Chunk {
    if (this.#disposed) throw new ValueError("EvaluationSet: used after dispose()");
    if (!Number.isInteger(start / this.batchSize) || start < 0 || start >= this.count) {
      throw new ValueError(`EvaluationSet.chunk: start must be a multiple of ${this.batchSize} below ${this.count}, got ${start}`);
    }
    const index = start / this.batchSize;
    let cached = this.#chunks[index];
    if (cached === undefined) {
      this.#staging ??= new BatchBuffer(Math.min(this.batchSize, Math.max(1, this.count)));
      const batch = gatherChunk(this.data, start, Math.min(this.batchSize, this.count - start), this.#staging);
      // Kept: a caller's open scope must not free what later evaluations reuse.
      cached = { images: keep(batch.images), labels: keep(batch.labels) };
      this.#chunks[index] = cached;
      if (this.#chunks.length * this.batchSize >= this.count) this.#staging = null; // every chunk made
    }
    return { ...cached, release() {} };
  }

  /** Frees the cached tensors. */
  dispose(): void {
    for (const chunk of this.#chunks) {
      chunk?.images.dispose();
      chunk?.labels.dispose();
    }
    this.#chunks = [];
    this.#staging = null;
    this.#disposed = true;
  }
}

function gatherChunk(data: DataSet, start: number, size: number, into: BatchBuffer) {
  return data.gather(Array.from({ length: size }, (_, i) => start + i), { into });
}

/**
 * Loss and accuracy over a whole split, in chunks of `batchSize` (never the whole set at once: that is what
 * runs a GPU out of memory), summed on the device and read back once. Given an {@link EvaluationSet} (built
 * with the same batchSize and limit), the chunks are its cached tensors; given a DataSet, each chunk is
 * converted for this call and freed after it.
 */
export async function evaluate(trainer: Trainer, data: DataSet | EvaluationSet, options: EvaluateOptions): Promise<Evaluation> {
  const { batchSize, collect = false, limit = 0, tta = "none" } = options;
  if (data instanceof EvaluationSet && (data.batchSize !== batchSize || data.limit !== limit)) {
    throw new ValueError(
      `evaluate: the EvaluationSet was built for batchSize ${data.batchSize} and limit ${data.limit}, got batchSize ${batchSize} and limit ${limit}`,
    );
  }
  let chunkAt: (start: number) => Chunk;
  let n: number;
  if (data instanceof EvaluationSet) {
    n = data.count;
    chunkAt = (start) => data.chunk(start);
  } else {
    n = limit > 0 ? Math.min(limit, data.numExamples) : data.numExamples;
    const staging = new BatchBuffer(Math.min(batchSize, Math.max(1, n)));
    chunkAt = (start) => {
      const batch = gatherChunk(data, start, Math.min(batchSize, n - start), staging);
      const { images, labels } = batch;
      return { images, labels, release: () => batch.dispose() };
    };
  }
  let lossSum: NDArray | null = null, correctSum: NDArray | null = null;
  const predicted = collect ? new Int32Array(n) : undefined;
  const confidence = collect ? new Float32Array(n) : undefined;
  for (let start = 0; start < n; start += batchSize) {
    // Made outside the scope below: its tensors are the chunk's (cached or released here), not the scope's.
    const batch = chunkAt(start);
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
    batch.release();
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

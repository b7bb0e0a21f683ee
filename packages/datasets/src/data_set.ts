/**
 * A split of the data with the course's batching. Images stay uint8 in memory (3,072 bytes each) and become
 * float32 only per batch.
 *
 * `nextBatch(batchSize)` hands out consecutive slices — the first epoch in file order. When the next slice
 * would run past the end, `epochsCompleted` goes up, the order is reshuffled with the DataSet's seeded generator
 * and the batch starts again at 0; the partial tail is dropped. (As in the course, each reshuffle permutes the
 * previous order.)
 */
import { ShapeError, ValueError } from "@backprop/tensor";
import {
  type AugmentOptions,
  type Augmentation,
  hasUnitScale,
  resolveAugmentation,
  writeAugmentedImage,
  writeImage,
} from "./augment.ts";
import { Batch, type BatchBuffer } from "./batch.ts";
import { CIFAR10_CLASS_NAMES, IMAGE_BYTES, IMAGE_CHANNELS, IMAGE_HEIGHT, IMAGE_WIDTH } from "./cifar_format.ts";
import { identityTransform, type PixelTransform } from "./preprocess.ts";
import { type GeneratorState, Xoshiro128 } from "./random.ts";

/** Options of a {@link DataSet}. */
export interface DataSetOptions {
  /** Names of the classes, by label; default the CIFAR-10 names. */
  classNames?: readonly string[];
  /** uint8 → float32 map; default the identity (raw 0–255 values). */
  transform?: PixelTransform;
  /** Seed of the shuffle (and augmentation) generators; default 42. */
  seed?: number;
  /** Generator stream of the shuffle; the augmentation uses `stream + 1000`. Default 0. */
  stream?: number;
  /** Augmentation applied by `nextBatch` (never by `batches`); default none. */
  augment?: AugmentOptions;
  /** Device the batches' tensors are made on; default "cpu". */
  device?: string;
}

/** Where a batch is assembled. */
export interface BatchOptions {
  /**
   * Write the batch into this buffer instead of new arrays: no allocation per batch, and the batch assembled
   * into the buffer before becomes unreadable (its typed arrays are overwritten; reading it throws).
   */
  into?: BatchBuffer;
}

/** Everything needed to resume `nextBatch` exactly where it was; plain JSON. */
export interface DataSetState {
  numExamples: number;
  indexInEpoch: number;
  epochsCompleted: number;
  /** Current order of examples (dataset indices); null while still in file order. */
  order: number[] | null;
  shuffleGenerator: GeneratorState;
  augmentGenerator: GeneratorState;
}

export class DataSet {
  /** All images, `numExamples × 3072` bytes, CHW per image, in file order. */
  readonly rawImages: Uint8Array;
  /** All labels, in file order. */
  readonly rawLabels: Uint8Array;
  readonly numExamples: number;
  readonly classNames: readonly string[];
  readonly transform: PixelTransform;
  readonly augmentation: Augmentation | undefined;
  readonly device: string;
  #order: Int32Array | null = null;
  #indexInEpoch = 0;
  #epochsCompleted = 0;
  #shuffleGenerator: Xoshiro128;
  #augmentGenerator: Xoshiro128;

  constructor(images: Uint8Array, labels: Uint8Array, options: DataSetOptions = {}) {
    if (images.length !== labels.length * IMAGE_BYTES) {
      throw new ShapeError(
        `DataSet: ${labels.length} labels need ${labels.length * IMAGE_BYTES} image bytes, got ${images.length}`,
      );
    }
    this.rawImages = images;
    this.rawLabels = labels;
    this.numExamples = labels.length;
    this.classNames = Object.freeze([...(options.classNames ?? CIFAR10_CLASS_NAMES)]);
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] >= this.classNames.length) {
        throw new ValueError(`DataSet: label ${labels[i]} of example ${i} is not below ${this.classNames.length}`);
      }
    }
    this.transform = options.transform ?? identityTransform();
    this.augmentation = resolveAugmentation(options.augment);
    this.device = options.device ?? "cpu";
    const seed = options.seed ?? 42;
    const stream = options.stream ?? 0;
    this.#shuffleGenerator = new Xoshiro128(seed, stream);
    this.#augmentGenerator = new Xoshiro128(seed, stream + 1000);
  }

  get numClasses(): number {
    return this.classNames.length;
  }

  /** Complete passes made by `nextBatch` so far. */
  get epochsCompleted(): number {
    return this.#epochsCompleted;
  }

  /** Position of the next `nextBatch` slice in the current order. */
  get indexInEpoch(): number {
    return this.#indexInEpoch;
  }

  /**
   * The next training batch, the course's way (see the class comment); augmented if enabled. With `into`, the
   * batch is written into that buffer (no allocation), superseding the batch written there before.
   */
  nextBatch(batchSize: number, options: BatchOptions = {}): Batch {
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > this.numExamples) {
      throw new ValueError(
        `nextBatch: batchSize must be an integer in [1, ${this.numExamples}] (the number of examples), got ${batchSize}`,
      );
    }
    // Checked before the position moves, so a refused batch leaves the sequence of batches untouched.
    if (options.into && batchSize > options.into.capacity) {
      throw new ValueError(`nextBatch: a batch of ${batchSize} examples does not fit the BatchBuffer's capacity ${options.into.capacity}`);
    }
    let start = this.#indexInEpoch;
    this.#indexInEpoch += batchSize;
    if (this.#indexInEpoch > this.numExamples) {
      this.#epochsCompleted++;
      this.#order ??= identity(this.numExamples);
      this.#shuffleGenerator.shuffle(this.#order);
      start = 0;
      this.#indexInEpoch = batchSize;
    }
    const indices = this.#order === null
      ? identity(batchSize, start)
      : this.#order.slice(start, start + batchSize);
    return this.#assemble(indices, this.augmentation, options.into, "nextBatch");
  }

  /**
   * Consecutive batches over the whole set in file order, for evaluation: no shuffling, no augmentation, and
   * `nextBatch`'s position is untouched. The last batch is smaller unless `dropLast`. With `into`, each batch
   * supersedes the one before it in that buffer.
   */
  *batches(batchSize: number, options: BatchOptions & { dropLast?: boolean } = {}): Generator<Batch> {
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new ValueError(`batches: batchSize must be a positive integer, got ${batchSize}`);
    }
    for (let start = 0; start < this.numExamples; start += batchSize) {
      const end = Math.min(start + batchSize, this.numExamples);
      if (end - start < batchSize && options.dropLast) return;
      yield this.#assemble(identity(end - start, start), undefined, options.into, "batches");
    }
  }

  /** A batch of the given examples (dataset indices), preprocessed, optionally augmented. */
  gather(indices: ArrayLike<number>, options: BatchOptions & { augment?: boolean } = {}): Batch {
    const checked = Int32Array.from(indices, (i) => this.#checkIndex(i, "gather"));
    return this.#assemble(checked, options.augment ? this.augmentation : undefined, options.into, "gather");
  }

  /** All examples as one batch, in file order (1,000 test images take 12 MB as float32). */
  all(): Batch {
    return this.#assemble(identity(this.numExamples), undefined, undefined, "all");
  }

  /** The raw image of example `i`: 3,072 bytes, CHW (a view, not a copy). */
  image(i: number): Uint8Array {
    const index = this.#checkIndex(i, "image");
    return this.rawImages.subarray(index * IMAGE_BYTES, (index + 1) * IMAGE_BYTES);
  }

  /** The raw image of example `i` interleaved as HWC (RGBRGB…), the layout image encoders want. */
  imageHWC(i: number): Uint8Array {
    const chw = this.image(i);
    const plane = IMAGE_HEIGHT * IMAGE_WIDTH;
    const hwc = new Uint8Array(IMAGE_BYTES);
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < IMAGE_CHANNELS; c++) hwc[p * IMAGE_CHANNELS + c] = chw[c * plane + p];
    }
    return hwc;
  }

  /** The label of example `i`. */
  label(i: number): number {
    return this.rawLabels[this.#checkIndex(i, "label")];
  }

  /** How many examples each class has. */
  labelCounts(): number[] {
    const counts = new Array<number>(this.numClasses).fill(0);
    for (let i = 0; i < this.numExamples; i++) counts[this.rawLabels[i]]++;
    return counts;
  }

  /** The batching state, to checkpoint. */
  getState(): DataSetState {
    return {
      numExamples: this.numExamples,
      indexInEpoch: this.#indexInEpoch,
      epochsCompleted: this.#epochsCompleted,
      order: this.#order === null ? null : Array.from(this.#order),
      shuffleGenerator: this.#shuffleGenerator.getState(),
      augmentGenerator: this.#augmentGenerator.getState(),
    };
  }

  /** Resumes from a state returned by {@link getState} (on a DataSet holding the same examples). */
  setState(state: DataSetState): void {
    const n = this.numExamples;
    if (state.numExamples !== n) {
      throw new ValueError(`setState: the state is for ${state.numExamples} examples, this DataSet has ${n}`);
    }
    if (!Number.isInteger(state.indexInEpoch) || state.indexInEpoch < 0 || state.indexInEpoch > n) {
      throw new ValueError(`setState: indexInEpoch must be an integer in [0, ${n}], got ${state.indexInEpoch}`);
    }
    if (!Number.isInteger(state.epochsCompleted) || state.epochsCompleted < 0) {
      throw new ValueError(`setState: epochsCompleted must be a non-negative integer, got ${state.epochsCompleted}`);
    }
    let order: Int32Array | null = null;
    if (state.order !== null) {
      if (state.order.length !== n) {
        throw new ValueError(`setState: order has ${state.order.length} entries, expected ${n}`);
      }
      order = Int32Array.from(state.order);
      const seen = new Uint8Array(n);
      for (const i of order) {
        if (!(i >= 0 && i < n) || seen[i]) {
          throw new ValueError("setState: order is not a permutation of the examples");
        }
        seen[i] = 1;
      }
    }
    const shuffle = Xoshiro128.fromState(state.shuffleGenerator);
    const augment = Xoshiro128.fromState(state.augmentGenerator);
    this.#order = order;
    this.#indexInEpoch = state.indexInEpoch;
    this.#epochsCompleted = state.epochsCompleted;
    this.#shuffleGenerator = shuffle;
    this.#augmentGenerator = augment;
  }

  #checkIndex(i: number, op: string): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.numExamples) {
      throw new ValueError(`${op}: index ${i} is outside [0, ${this.numExamples})`);
    }
    return i;
  }

  #assemble(indices: Int32Array, augmentation: Augmentation | undefined, into: BatchBuffer | undefined, op: string): Batch {
    const size = indices.length;
    // Claimed before anything is written: the batch this supersedes reads as invalid from here on.
    const generation = into?.claim(size, op);
    const images = into ? into.images.subarray(0, size * IMAGE_BYTES) : new Float32Array(size * IMAGE_BYTES);
    const labels = into ? into.labels.subarray(0, size) : new Int32Array(size);
    // Looked at per batch (3,072 values against the batch's 3,072 per image), so a changed transform is seen.
    const unitScale = hasUnitScale(this.transform);
    if (into) {
      into.indices.set(indices);
      indices = into.indices.subarray(0, size);
    }
    for (let b = 0; b < size; b++) {
      const index = indices[b];
      labels[b] = this.rawLabels[index];
      if (augmentation === undefined) {
        writeImage(this.rawImages, index, images, b * IMAGE_BYTES, this.transform, unitScale);
      } else {
        writeAugmentedImage(
          this.rawImages,
          index,
          images,
          b * IMAGE_BYTES,
          this.transform,
          augmentation,
          this.#augmentGenerator,
        );
      }
    }
    const lease = into ? { buffer: into, generation: generation! } : undefined;
    return new Batch(indices, images, labels, this.numClasses, this.device, lease);
  }
}

function identity(length: number, start = 0): Int32Array {
  const out = new Int32Array(length);
  for (let i = 0; i < length; i++) out[i] = start + i;
  return out;
}

/**
 * One batch: float32 NCHW images and int32 labels as plain typed arrays, and the same data as tensors, made on
 * first access. The tensors belong to the caller once made: `dispose()` the batch (or make them inside a
 * scope) when done.
 *
 * A batch assembled `into` a {@link BatchBuffer} holds views of the buffer instead of arrays of its own: it
 * stays readable until the buffer's next use, after which reading it throws (never stale or silently changed
 * data). Its tensors are copies made on access, so a tensor taken before that stays valid.
 */
import { type NDArray, tensor, ValueError } from "@backprop/tensor";
import { IMAGE_BYTES, IMAGE_CHANNELS, IMAGE_HEIGHT, IMAGE_WIDTH } from "./cifar_format.ts";

/**
 * Memory for batches of up to `capacity` examples, reused from one batch to the next: pass it as `into` to
 * `DataSet.nextBatch`, `batches` or `gather` to fill it instead of allocating about 12 KB per image per
 * step. Each use supersedes the batch assembled into it before (see {@link Batch}).
 */
export class BatchBuffer {
  readonly capacity: number;
  readonly images: Float32Array;
  readonly labels: Int32Array;
  readonly indices: Int32Array;
  #generation = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new ValueError(`BatchBuffer: capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
    this.images = new Float32Array(capacity * IMAGE_BYTES);
    this.labels = new Int32Array(capacity);
    this.indices = new Int32Array(capacity);
  }

  /** How many batches were assembled into the buffer so far; the newest one is the only readable one. */
  get generation(): number {
    return this.#generation;
  }

  /** Claims the buffer for a new batch of `size` examples (invalidating the previous one); `op` names the caller. */
  claim(size: number, op: string): number {
    if (size > this.capacity) {
      throw new ValueError(`${op}: a batch of ${size} examples does not fit the BatchBuffer's capacity ${this.capacity}`);
    }
    return ++this.#generation;
  }
}

export class Batch {
  /** Number of examples. */
  readonly size: number;
  readonly numClasses: number;
  /** Device the tensors are made on. */
  readonly device: string;
  #indices: Int32Array;
  #imagesF32: Float32Array;
  #labelsI32: Int32Array;
  /** The buffer this batch lives in and the buffer's generation that made it; undefined: arrays of its own. */
  #lease?: { buffer: BatchBuffer; generation: number };
  #oneHot?: Float32Array;
  #images?: NDArray;
  #labels?: NDArray;
  #labelsOneHot?: NDArray;

  constructor(
    indices: Int32Array,
    imagesF32: Float32Array,
    labelsI32: Int32Array,
    numClasses: number,
    device = "cpu",
    lease?: { buffer: BatchBuffer; generation: number },
  ) {
    this.size = indices.length;
    this.#indices = indices;
    this.#imagesF32 = imagesF32;
    this.#labelsI32 = labelsI32;
    this.numClasses = numClasses;
    this.device = device;
    this.#lease = lease;
  }

  /** False once the buffer this batch was assembled into has been used for another batch. */
  get valid(): boolean {
    return this.#lease === undefined || this.#lease.buffer.generation === this.#lease.generation;
  }

  #check(what: string): void {
    if (!this.valid) {
      throw new ValueError(
        `Batch.${what}: this batch's BatchBuffer has since been filled with another batch (assembled ${
          this.#lease!.buffer.generation - this.#lease!.generation
        } batches later); read a batch before asking for the next one into the same buffer, or use a BatchBuffer per batch kept`,
      );
    }
  }

  /** Each example's index in its DataSet (file order). */
  get indices(): Int32Array {
    this.#check("indices");
    return this.#indices;
  }

  /** Images, `[size, 3, 32, 32]` row-major, preprocessed. */
  get imagesF32(): Float32Array {
    this.#check("imagesF32");
    return this.#imagesF32;
  }

  /** Class indices, `[size]`. */
  get labelsI32(): Int32Array {
    this.#check("labelsI32");
    return this.#labelsI32;
  }

  /** One-hot labels, `[size, numClasses]` float32. */
  get labelsOneHotF32(): Float32Array {
    this.#check("labelsOneHotF32");
    if (this.#oneHot === undefined) {
      const oneHot = new Float32Array(this.size * this.numClasses);
      for (let i = 0; i < this.size; i++) oneHot[i * this.numClasses + this.#labelsI32[i]] = 1;
      this.#oneHot = oneHot;
    }
    return this.#oneHot;
  }

  /** Images as a float32 tensor of shape `[size, 3, 32, 32]`. */
  get images(): NDArray {
    this.#images ??= tensor(this.imagesF32, {
      shape: [this.size, IMAGE_CHANNELS, IMAGE_HEIGHT, IMAGE_WIDTH],
      dtype: "float32",
      device: this.device,
    });
    return this.#images;
  }

  /** Class indices as an int32 tensor of shape `[size]`. */
  get labels(): NDArray {
    this.#labels ??= tensor(this.labelsI32, { shape: [this.size], dtype: "int32", device: this.device });
    return this.#labels;
  }

  /** One-hot labels as a float32 tensor of shape `[size, numClasses]`. */
  get labelsOneHot(): NDArray {
    this.#labelsOneHot ??= tensor(this.labelsOneHotF32, {
      shape: [this.size, this.numClasses],
      dtype: "float32",
      device: this.device,
    });
    return this.#labelsOneHot;
  }

  /** Disposes the tensors made so far (the typed arrays stay usable while the batch is valid). */
  dispose(): void {
    this.#images?.dispose();
    this.#labels?.dispose();
    this.#labelsOneHot?.dispose();
    this.#images = this.#labels = this.#labelsOneHot = undefined;
  }
}

/**
 * One batch: float32 NCHW images and int32 labels as plain typed arrays, and the same data as tensors, made on
 * first access. The tensors belong to the caller once made: `dispose()` the batch (or make them inside a
 * scope) when done.
 */
import { type NDArray, tensor } from "@backprop/tensor";
import { IMAGE_CHANNELS, IMAGE_HEIGHT, IMAGE_WIDTH } from "./cifar_format.ts";

export class Batch {
  /** Number of examples. */
  readonly size: number;
  /** Each example's index in its DataSet (file order). */
  readonly indices: Int32Array;
  /** Images, `[size, 3, 32, 32]` row-major, preprocessed. */
  readonly imagesF32: Float32Array;
  /** Class indices, `[size]`. */
  readonly labelsI32: Int32Array;
  readonly numClasses: number;
  /** Device the tensors are made on. */
  readonly device: string;
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
  ) {
    this.size = indices.length;
    this.indices = indices;
    this.imagesF32 = imagesF32;
    this.labelsI32 = labelsI32;
    this.numClasses = numClasses;
    this.device = device;
  }

  /** One-hot labels, `[size, numClasses]` float32. */
  get labelsOneHotF32(): Float32Array {
    if (this.#oneHot === undefined) {
      const oneHot = new Float32Array(this.size * this.numClasses);
      for (let i = 0; i < this.size; i++) oneHot[i * this.numClasses + this.labelsI32[i]] = 1;
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

  /** Disposes the tensors made so far (the typed arrays stay usable). */
  dispose(): void {
    this.#images?.dispose();
    this.#labels?.dispose();
    this.#labelsOneHot?.dispose();
    this.#images = this.#labels = this.#labelsOneHot = undefined;
  }
}

import type { NDArray } from "@backprop/tensor";

/** What the training loop needs from a model, whichever way its gradients are computed. */
export interface Trainer {
  /** One optimisation step; returns the batch's mean loss and its number of correct predictions (0-d arrays the caller disposes). */
  trainStep(images: NDArray, labels: NDArray): { loss: NDArray; correct: NDArray };
  /** Sets the learning rate of the following steps (a schedule calls this before each step). */
  setLearningRate(lr: number): void;
  /** Logits of a batch, in evaluation mode, recording nothing. */
  predict(images: NDArray): NDArray;
  /** Model parameters/buffers and optimizer state, named, for a checkpoint. */
  state(): Record<string, NDArray>;
  /** Generator states and counters that are not arrays (JSON). */
  extraState(): unknown;
  loadState(arrays: Record<string, NDArray>, extra: unknown): void;
  /** Number of trainable values. */
  parameterCount(): number;
}

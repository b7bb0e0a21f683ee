import type { DType, NDArray } from "@backprop/tensor";
import type { Tensor } from "./tensor.ts";

/** Computes the input gradients from the output gradients (null where an input needs none). */
export type BackwardFn = (gradOutputs: NDArray[]) => (NDArray | null)[];

/**
 * One recorded operation: its inputs, how to backpropagate through it, and the shapes of its outputs (so a
 * missing output gradient can be filled with zeros). `backward` is dropped after use, which frees whatever
 * it captured (the saved intermediates) unless the graph is retained.
 */
export class Node {
  /** The backward rule; null once run (unless the graph was retained), which frees what it captured. */
  backward: BackwardFn | null;
  /** Made by recorded operations. */
  constructor(
    readonly name: string,
    readonly inputs: readonly (Tensor | null)[],
    backward: BackwardFn,
    readonly outputShapes: readonly (readonly number[])[],
    readonly outputDtypes: readonly DType[],
  ) {
    this.backward = backward;
  }
}

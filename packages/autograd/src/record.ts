import type { NDArray } from "@backprop/tensor";
import { isGradEnabled } from "./grad_mode.ts";
import { isFromBackward, markFromBackward } from "./gradient_origin.ts";
import { Node } from "./node.ts";
import { Tensor } from "./tensor.ts";

/** True when an operation on these inputs must be recorded. */
export function needsGraph(inputs: readonly (Tensor | null | undefined)[]): boolean {
  return isGradEnabled() && inputs.some((t) => t?.requiresGrad);
}

/**
 * Wraps the results of an operation as tensors and, when any input requires a gradient (and recording is on),
 * links them to a graph node that backpropagates with `backward`.
 */
export function recordMany(
  name: string,
  inputs: readonly (Tensor | null)[],
  outputs: readonly NDArray[],
  backward: (grads: NDArray[]) => (NDArray | null)[],
): Tensor[] {
  // Integer and bool results (comparisons, indices, casts to int) carry no gradient. An operation that also
  // has float results (values and their indices) still records them: only the integer ones are left out.
  const isFloat = outputs.map((o) => o.dtype === "float32" || o.dtype === "float64");
  if (!isFloat.some(Boolean) || !needsGraph(inputs)) {
    const tensors = outputs.map((o) => new Tensor(o));
    // A result computed from a gradient is one too, so backward from it can name the missing second order.
    if (inputs.some((t) => t && isFromBackward(t))) tensors.forEach(markFromBackward);
    return tensors;
  }
  const node = new Node(name, inputs, backward, outputs.map((o) => o.shape), outputs.map((o) => o.dtype));
  return outputs.map((o, i) => (isFloat[i] ? Tensor.fromNode(o, node, i) : new Tensor(o)));
}

/** `recordMany` for the usual single-output operation. */
export function record(
  name: string,
  inputs: readonly (Tensor | null)[],
  output: NDArray,
  backward: (grad: NDArray) => (NDArray | null)[],
): Tensor {
  return recordMany(name, inputs, [output], (grads) => backward(grads[0]!))[0]!;
}

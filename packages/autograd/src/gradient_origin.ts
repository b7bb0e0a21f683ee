import type { Tensor } from "./tensor.ts";

/**
 * Tensors that hold a gradient (`.grad`) or were computed from one without a graph. The backward pass computes
 * on raw arrays and records nothing, so such a tensor is a constant to autograd; remembering where it came from
 * lets `backward` say that a gradient of a gradient is not supported instead of a bare "does not require a
 * gradient". A WeakSet, so the mark costs nothing once the tensor is garbage.
 */
const fromBackward = new WeakSet<Tensor>();

/** Marks `t` as a gradient, or as computed from one. */
export function markFromBackward(t: Tensor): void {
  fromBackward.add(t);
}

/** Whether `t` holds a gradient or was computed from one without a graph. */
export function isFromBackward(t: Tensor): boolean {
  return fromBackward.has(t);
}

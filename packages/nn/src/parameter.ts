import { Tensor } from "@backprop/autograd";
import { keep, type NDArray } from "@backprop/tensor";

/**
 * A tensor that is part of a module's state: it requires a gradient by default and is found by
 * `Module.parameters()`. Its arrays outlive `tidy` scopes (a parameter lives as long as its module), so the
 * constructor and `assign` exempt them with `keep()`; whoever replaces a value disposes the old one (`assign`
 * does that).
 */
export class Parameter extends Tensor {
  constructor(value: NDArray, options: { requiresGrad?: boolean } = {}) {
    super(keep(value), { requiresGrad: options.requiresGrad ?? true });
  }

  override assign(value: NDArray, options: { disposeOld?: boolean } = {}): void {
    super.assign(keep(value), options);
  }
}

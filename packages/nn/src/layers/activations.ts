import type { Tensor } from "@backprop/autograd";
import { ValueError } from "@backprop/tensor";
import { Module } from "../module.ts";

/** max(0, x). */
export class ReLU extends Module {
  override forward(x: Tensor): Tensor {
    return x.relu();
  }
}

/** x for x > 0, α(eˣ − 1) otherwise. */
export class ELU extends Module {
  constructor(readonly alpha: number = 1) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return x.elu(this.alpha);
  }
  override extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
}

export class Tanh extends Module {
  override forward(x: Tensor): Tensor {
    return x.tanh();
  }
}

export class Sigmoid extends Module {
  override forward(x: Tensor): Tensor {
    return x.sigmoid();
  }
}

/**
 * log(1 + e^(βx)) / β, smooth ReLU; linear where βx > 20 (PyTorch's default threshold), so large inputs stay
 * exact instead of overflowing.
 */
export class Softplus extends Module {
  constructor(readonly beta: number = 1) {
    super();
    if (!(beta > 0) || !Number.isFinite(beta)) throw new ValueError(`Softplus: beta must be a finite number > 0, got ${beta}`);
  }
  override forward(x: Tensor): Tensor {
    return this.beta === 1 ? x.softplus() : x.mul(this.beta).softplus().div(this.beta);
  }
  override extraRepr(): string {
    return `beta=${this.beta}`;
  }
}

/** Passes its input through (a placeholder where a layer is optional). */
export class Identity extends Module {
  override forward(x: Tensor): Tensor {
    return x;
  }
}

/** Softmax along `dim` (default the last dimension, where PyTorch would guess and warn). */
export class Softmax extends Module {
  constructor(readonly dim: number = -1) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return x.softmax(this.dim);
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/** log(softmax(x)) along `dim`, computed stably (default the last dimension). */
export class LogSoftmax extends Module {
  constructor(readonly dim: number = -1) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return x.logSoftmax(this.dim);
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

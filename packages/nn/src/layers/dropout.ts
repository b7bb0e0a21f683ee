import type { Tensor } from "@backprop/autograd";
import { type Generator, ValueError } from "@backprop/tensor";
import { dropout } from "../functional/dropout.ts";
import { Module } from "../module.ts";

/**
 * Inverted dropout in training mode, the identity in evaluation mode. Masks come from `generator` (default:
 * the default generator at the time of the call), so a seeded run drops the same units.
 */
export class Dropout extends Module {
  readonly generator: Generator | undefined;

  constructor(readonly p: number = 0.5, options: { generator?: Generator } = {}) {
    super();
    if (!(p >= 0 && p <= 1)) throw new ValueError(`Dropout: p must be in [0, 1], got ${p}`);
    this.generator = options.generator;
  }

  override forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training, { generator: this.generator });
  }

  override extraRepr(): string {
    return `p=${this.p}`;
  }
}

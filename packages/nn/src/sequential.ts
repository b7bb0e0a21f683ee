import type { Tensor } from "@backprop/autograd";
import { ValueError } from "@backprop/tensor";
import { Module } from "./module.ts";

/** Modules applied one after the other, as PyTorch's `nn.Sequential`; children are named "0", "1", …. */
export class Sequential extends Module {
  readonly #layers: Module[];

  constructor(...layers: Module[]) {
    super();
    this.#layers = [...layers];
  }

  protected override namedMembers(): [string, unknown][] {
    return [...super.namedMembers(), ...this.#layers.map((m, i): [string, unknown] => [String(i), m])];
  }

  override forward(x: Tensor): Tensor {
    for (const layer of this.#layers) x = layer.forward(x);
    return x;
  }

  get length(): number {
    return this.#layers.length;
  }

  /** The layer at `index` (negative counts from the end). */
  at(index: number): Module {
    const m = this.#layers.at(index);
    if (!m) throw new ValueError(`Sequential.at: index ${index} is out of range for ${this.#layers.length} layers`);
    return m;
  }

  append(layer: Module): this {
    this.#layers.push(layer);
    return this;
  }

  [Symbol.iterator](): Iterator<Module> {
    return this.#layers[Symbol.iterator]();
  }
}

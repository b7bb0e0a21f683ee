import { ValueError } from "@backprop/tensor";
import { Module } from "./module.ts";

/**
 * A list of sub-modules, as PyTorch's `nn.ModuleList`: its entries are registered (named "0", "1", …) so their
 * parameters are found. It has no `forward`; the owner decides how to call them.
 */
export class ModuleList extends Module {
  readonly #items: Module[];

  constructor(modules: Iterable<Module> = []) {
    super();
    this.#items = [...modules];
  }

  protected override namedMembers(): [string, unknown][] {
    return [...super.namedMembers(), ...this.#items.map((m, i): [string, unknown] => [String(i), m])];
  }

  get length(): number {
    return this.#items.length;
  }

  /** The module at `index` (negative counts from the end). */
  at(index: number): Module {
    const m = this.#items.at(index);
    if (!m) throw new ValueError(`ModuleList.at: index ${index} is out of range for ${this.#items.length} modules`);
    return m;
  }

  append(module: Module): this {
    this.#items.push(module);
    return this;
  }

  extend(modules: Iterable<Module>): this {
    for (const m of modules) this.#items.push(m);
    return this;
  }

  [Symbol.iterator](): Iterator<Module> {
    return this.#items[Symbol.iterator]();
  }
}

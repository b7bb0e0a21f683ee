import { type DType, keep, type NDArray, ValueError } from "@backprop/tensor";
import { ModuleError, type ShapeMismatch, StateDictError } from "./errors.ts";
import { Parameter } from "./parameter.ts";
import { fmtShape } from "./util.ts";

/** What `loadStateDict` did not match (only non-empty when `strict` is false). */
export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/** One array of a module's state: where it lives and how to replace it. */
interface StateEntry {
  key: string;
  value: NDArray;
  replace(value: NDArray): void;
}

const isFloatDType = (d: DType): boolean => d === "float32" || d === "float64";

function checkMemberName(owner: string, name: string): void {
  if (name === "" || name.includes(".")) {
    throw new ValueError(`${owner}: the name "${name}" must be non-empty and contain no "." (dots separate nested names)`);
  }
}

/** A new array with `src`'s values, converted to `dtype` on `device`, owned by the caller (kept from scopes). */
function ownedCopy(src: NDArray, dtype: DType, device: string): NDArray {
  const moved = src.to(device);
  const out = moved.cast(dtype, true);
  if (moved !== src) moved.dispose();
  return keep(out);
}

/**
 * Base class of every layer and model, as PyTorch's `nn.Module`. A subclass declares its parameters and
 * sub-modules as fields; they are found by walking the instance's own enumerable properties in declaration
 * order, so `this.conv1 = new Conv2d(…)` is all the registration needed and the names in `namedParameters()`
 * and `stateDict()` are PyTorch's dotted paths (`conv1.weight`, `bn1.running_mean`, `layers.0.bias`).
 * Lists of modules go in a `ModuleList` (a plain array is an error, since its parameters would be missed).
 * Buffers (state that is saved but not trained, like batch norm's running statistics) are registered with
 * `registerBuffer`.
 *
 * Instances are not callable: call `m.forward(x)`.
 */
export class Module {
  /** Training mode (dropout active, batch norm uses and updates batch statistics); see `train()`/`eval()`. */
  training = true;
  readonly #buffers = new Map<string, NDArray | null>();

  /** The computation. Subclasses override it with their own signature. */
  forward(..._inputs: any[]): any {
    throw new ModuleError(`${this.constructor.name}.forward is not implemented: a Module subclass overrides forward()`);
  }

  /**
   * The named members that may be parameters or sub-modules, in order. Containers that hold their children
   * elsewhere (`Sequential`, `ModuleList`) add them here.
   */
  protected namedMembers(): [string, unknown][] {
    return Object.entries(this);
  }

  #members(): { parameters: [string, Parameter][]; children: [string, Module][] } {
    const parameters: [string, Parameter][] = [];
    const children: [string, Module][] = [];
    for (const [name, v] of this.namedMembers()) {
      if (v instanceof Parameter) parameters.push([name, v]);
      else if (v instanceof Module) children.push([name, v]);
      else if (Array.isArray(v) && v.some((x) => x instanceof Module || x instanceof Parameter)) {
        throw new ModuleError(
          `${this.constructor.name}.${name} is a plain array of modules or parameters; wrap it in a ModuleList ` +
            "so that parameters(), stateDict() and train()/eval() find its contents",
        );
      }
    }
    return { parameters, children };
  }

  /** Adds a parameter under `name` (for names that cannot be written as a field). `null` registers nothing. */
  registerParameter(name: string, parameter: Parameter | null): void {
    checkMemberName("registerParameter", name);
    Object.defineProperty(this, name, { value: parameter, enumerable: true, writable: true, configurable: true });
  }

  /** Adds a sub-module under `name` (for names that cannot be written as a field). */
  registerModule(name: string, module: Module | null): void {
    checkMemberName("registerModule", name);
    Object.defineProperty(this, name, { value: module, enumerable: true, writable: true, configurable: true });
  }

  /**
   * Adds a buffer: an array that belongs to the module's state (saved in `stateDict`, moved by `to`) but is not
   * trained. The module owns it from now on: it is kept out of `tidy` scopes and disposed when replaced.
   */
  registerBuffer(name: string, value: NDArray | null): void {
    checkMemberName("registerBuffer", name);
    if (!this.#buffers.has(name) && Object.hasOwn(this, name)) {
      throw new ValueError(`registerBuffer: ${this.constructor.name} already has a member named "${name}"`);
    }
    this.setBuffer(name, value);
  }

  /** The buffer registered as `name`. */
  getBuffer(name: string): NDArray {
    const b = this.#buffers.get(name);
    if (!b) {
      const known = [...this.#buffers.keys()].join(", ") || "none";
      throw new ValueError(`${this.constructor.name} has no buffer "${name}" (buffers: ${known})`);
    }
    return b;
  }

  /** Replaces the buffer `name`, disposing the old array. */
  setBuffer(name: string, value: NDArray | null): void {
    const old = this.#buffers.get(name);
    this.#buffers.set(name, value ? keep(value) : null);
    if (old && old !== value) old.dispose();
  }

  /** Direct sub-modules with their names. */
  namedChildren(): [string, Module][] {
    return this.#members().children;
  }

  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and every module below it (each once), depth first, with dotted names ("" for this one). */
  namedModules(prefix = ""): [string, Module][] {
    const out: [string, Module][] = [];
    const seen = new Set<Module>();
    const visit = (m: Module, name: string) => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([name, m]);
      for (const [child, c] of m.namedChildren()) visit(c, name ? `${name}.${child}` : child);
    };
    visit(this, prefix);
    return out;
  }

  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** Every parameter with its dotted name; a parameter shared by two modules is listed once. */
  namedParameters(): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    const seen = new Set<Parameter>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, p] of m.#members().parameters) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.push([prefix ? `${prefix}.${name}` : name, p]);
      }
    }
    return out;
  }

  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Every buffer with its dotted name. */
  namedBuffers(): [string, NDArray][] {
    const out: [string, NDArray][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, b] of m.#buffers) if (b) out.push([prefix ? `${prefix}.${name}` : name, b]);
    }
    return out;
  }

  buffers(): NDArray[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  /** Sets training mode on this module and all below it. Returns this module. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Evaluation mode: `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /** Disposes and clears every parameter's gradient (PyTorch's `zero_grad(set_to_none=True)`). */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Calls `fn` on every sub-module and then on this one (as PyTorch's `apply`, e.g. for custom init). */
  apply(fn: (m: Module) => void): this {
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  /**
   * Moves the parameters (and their gradients) and buffers to a device (`"cpu"`, `"webgpu"`), or converts the
   * floating-point ones to a dtype (`"float32"`, `"float64"`), in place. Returns this module.
   */
  to(target: string): this {
    this.#convert((a) => {
      if (target === "float32" || target === "float64") return isFloatDType(a.dtype) ? a.cast(target) : a;
      return a.to(target);
    });
    return this;
  }

  /** `to(device)` for devices that read asynchronously (moving off a GPU). */
  async toAsync(device: string): Promise<this> {
    const moved = new Map<NDArray, NDArray>();
    for (const a of this.#arrays()) moved.set(a, await a.toAsync(device));
    this.#convert((a) => moved.get(a) ?? a);
    return this;
  }

  #arrays(): NDArray[] {
    const out: NDArray[] = [];
    for (const p of this.parameters()) {
      out.push(p.value);
      if (p.grad) out.push(p.grad.value);
    }
    return [...out, ...this.buffers()];
  }

  #convert(fn: (a: NDArray) => NDArray): void {
    for (const p of this.parameters()) {
      const v = fn(p.value);
      if (v !== p.value) {
        const old = p.value;
        // Not `assign`: a dtype change is allowed here.
        p.value = keep(v);
        old.dispose();
      }
      if (p.grad) {
        const g = fn(p.grad.value);
        if (g !== p.grad.value) {
          p.grad.value.dispose();
          p.grad.value = keep(g);
        }
      }
    }
    for (const [, m] of this.namedModules()) {
      for (const [name, b] of m.#buffers) if (b) m.setBuffer(name, fn(b));
    }
  }

  #stateEntries(): StateEntry[] {
    const out: StateEntry[] = [];
    for (const [prefix, m] of this.namedModules()) {
      const at = (name: string) => (prefix ? `${prefix}.${name}` : name);
      for (const [name, p] of m.#members().parameters) {
        out.push({ key: at(name), value: p.value, replace: (v) => p.assign(v) });
      }
      for (const [name, b] of m.#buffers) {
        if (b) out.push({ key: at(name), value: b, replace: (v) => m.setBuffer(name, v) });
      }
    }
    return out;
  }

  /**
   * Every parameter and buffer by its dotted name (PyTorch's `state_dict` keys), e.g. to save with
   * `encodeSafetensors`. The arrays are the module's own, valid until the module replaces them (an optimizer
   * step does); pass `{ clone: true }` for copies that the caller owns (kept out of scopes; dispose them).
   */
  stateDict(options: { clone?: boolean } = {}): Record<string, NDArray> {
    const out: Record<string, NDArray> = {};
    for (const e of this.#stateEntries()) out[e.key] = options.clone ? keep(e.value.clone()) : e.value;
    return out;
  }

  /**
   * Copies the arrays of `state` into the module's parameters and buffers (converted to each one's dtype and
   * device; `state` stays the caller's). With `strict` (the default) the keys must match exactly; shapes must
   * always match. Everything is checked before anything is copied, so on error the module is unchanged.
   */
  loadStateDict(state: Record<string, NDArray>, options: { strict?: boolean } = {}): LoadStateDictResult {
    const strict = options.strict ?? true;
    const entries = this.#stateEntries();
    const own = new Set(entries.map((e) => e.key));
    const missingKeys = entries.filter((e) => !Object.hasOwn(state, e.key)).map((e) => e.key);
    const unexpectedKeys = Object.keys(state).filter((k) => !own.has(k));
    const mismatchedShapes: ShapeMismatch[] = [];
    for (const e of entries) {
      const src = Object.hasOwn(state, e.key) ? state[e.key] : undefined;
      if (!src) continue;
      if (src.shape.length !== e.value.shape.length || src.shape.some((d, i) => d !== e.value.shape[i])) {
        mismatchedShapes.push({ key: e.key, expected: e.value.shape, found: src.shape });
      }
    }
    if (mismatchedShapes.length || (strict && (missingKeys.length || unexpectedKeys.length))) {
      const lines = [`loadStateDict: cannot load the state into ${this.constructor.name}; nothing was loaded.`];
      const quote = (ks: string[]) => ks.map((k) => `"${k}"`).join(", ");
      if (strict && missingKeys.length) lines.push(`  missing keys (${missingKeys.length}): ${quote(missingKeys)}`);
      if (strict && unexpectedKeys.length) lines.push(`  unexpected keys (${unexpectedKeys.length}): ${quote(unexpectedKeys)}`);
      for (const m of mismatchedShapes) {
        lines.push(`  shape mismatch for "${m.key}": the state has ${fmtShape(m.found)}, the module ${fmtShape(m.expected)}`);
      }
      if (!strict && (missingKeys.length || unexpectedKeys.length)) {
        lines.push("  (keys that do not match are allowed with { strict: false }, shapes are not)");
      }
      throw new StateDictError(lines.join("\n"), missingKeys, unexpectedKeys, mismatchedShapes);
    }
    for (const e of entries) {
      const src = Object.hasOwn(state, e.key) ? state[e.key] : undefined;
      if (src) e.replace(ownedCopy(src, e.value.dtype, e.value.device));
    }
    return { missingKeys, unexpectedKeys };
  }

  /** Frees every parameter (and gradient) and buffer. The module cannot be used afterwards. */
  dispose(): void {
    for (const p of this.parameters()) p.dispose();
    for (const [, m] of this.namedModules()) {
      for (const b of m.#buffers.values()) b?.dispose();
    }
  }

  /** Extra text in `toString()`, after the class name (layers show their sizes here). */
  extraRepr(): string {
    return "";
  }

  /** A PyTorch-style outline of the module tree. */
  toString(): string {
    const children = this.namedChildren();
    const extra = this.extraRepr();
    if (children.length === 0) return `${this.constructor.name}(${extra})`;
    const indent = (s: string) => s.split("\n").join("\n  ");
    const lines = children.map(([name, m]) => `  (${name}): ${indent(m.toString())}`);
    return `${this.constructor.name}(\n${extra ? `  ${extra}\n` : ""}${lines.join("\n")}\n)`;
  }
}

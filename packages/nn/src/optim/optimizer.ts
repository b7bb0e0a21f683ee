import { noGrad, type Tensor } from "@backprop/autograd";
import { keep, type NDArray, tidy, ValueError } from "@backprop/tensor";
import { fmtShape } from "../util.ts";

/** A hyperparameter value: a number, a flag, or a pair (Adam's betas). */
export type Hyper = number | boolean | readonly [number, number];

/** Tensors optimised with their own hyperparameters (PyTorch's param groups), e.g. no weight decay on biases. */
export type ParamGroup<H> = { params: Tensor[] } & H;

/** Per-parameter state: arrays (momentum buffers, moment estimates) and numbers (step counts). */
export type ParamState = Record<string, NDArray | number>;

/**
 * An optimizer's state as plain data (PyTorch's `optimizer.state_dict()`): parameters are numbered in the order
 * of the groups, `state[i]` belongs to parameter i, and each group lists its hyperparameters and parameter
 * numbers.
 */
export interface OptimizerStateDict {
  state: Record<string, ParamState>;
  paramGroups: SavedParamGroup[];
}

/** A parameter group as saved: its hyperparameters and the numbers of its parameters. */
export interface SavedParamGroup {
  params: number[];
  [hyperparameter: string]: Hyper | number[];
}

type ParamsArg<H> = Iterable<Tensor> | Iterable<{ params: Iterable<Tensor> } & Partial<H>>;

/**
 * Base class of the optimizers. `step()` runs under `noGrad` inside a `tidy` scope: subclasses compute new
 * arrays from the old ones, replace each parameter's value with `assign` and each state array with `setState`
 * (both keep the new array and dispose the old), so memory stays flat however many steps run. `Optimizer`
 * without a type argument stands for any of them (each group has at least an `lr`, e.g. for a schedule).
 */
export abstract class Optimizer<H extends Record<string, Hyper> = { lr: number }> {
  readonly paramGroups: ParamGroup<H>[];
  readonly state: Map<Tensor, ParamState> = new Map();
  readonly defaults: H;
  /**
   * Whether each parameter's update runs as one fused elementwise pass (the default) or as the chain of
   * whole-array ops it is made of. Both give the same values; the switch exists for tests and benchmarks.
   */
  fused = true;

  constructor(params: ParamsArg<H>, defaults: H) {
    this.defaults = defaults;
    const list = [...params] as (Tensor | ({ params: Iterable<Tensor> } & Partial<H>))[];
    if (list.length === 0) throw new ValueError(`${this.constructor.name}: got an empty parameter list`);
    const isGroup = (x: unknown): x is { params: Iterable<Tensor> } & Partial<H> =>
      typeof x === "object" && x !== null && "params" in x && !("value" in x);
    const groups = list.every(isGroup) ? list : [{ params: list as Tensor[] }];
    const seen = new Set<Tensor>();
    this.paramGroups = groups.map((g, gi) => {
      const { params, ...overrides } = g as { params: Iterable<Tensor> } & Partial<H>;
      const tensors = [...params];
      for (const p of tensors) {
        if (!p.isLeaf) throw new ValueError(`${this.constructor.name}: can only optimise leaf tensors (group ${gi})`);
        if (seen.has(p)) throw new ValueError(`${this.constructor.name}: a parameter appears twice (group ${gi})`);
        seen.add(p);
      }
      const group = { ...defaults, ...overrides, params: tensors } as ParamGroup<H>;
      this.validate(group);
      return group;
    });
  }

  /** Throws a `ValueError` for hyperparameters out of range. */
  protected abstract validate(group: ParamGroup<H>): void;

  /** Updates one parameter from its gradient (called under noGrad, in a tidy scope). */
  protected abstract update(param: Tensor, grad: NDArray, group: ParamGroup<H>, state: ParamState): void;

  /** One optimisation step over every parameter that has a gradient. */
  step(): void {
    tidy(() =>
      noGrad(() => {
        for (const group of this.paramGroups) {
          for (const p of group.params) {
            if (!p.grad) continue;
            let s = this.state.get(p);
            if (!s) this.state.set(p, (s = {}));
            this.update(p, p.grad.value, group, s);
          }
        }
      })
    );
  }

  /** Disposes and clears the gradient of every parameter. */
  zeroGrad(): void {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        p.grad?.dispose();
        p.grad = null;
      }
    }
  }

  /** Replaces a state array: keeps the new one, disposes the old. */
  protected setState(state: ParamState, key: string, value: NDArray): void {
    const old = state[key];
    state[key] = keep(value);
    if (typeof old === "object" && old !== value) old.dispose();
  }

  /** Replaces a parameter's value (kept; the old one disposed). */
  protected setParam(param: Tensor, value: NDArray): void {
    param.assign(keep(value));
  }

  /**
   * The state and hyperparameters as plain data. The arrays are the optimizer's own (valid until the next step
   * replaces them); save them right away or clone them.
   */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    const paramGroups = this.paramGroups.map((g) => {
      const { params, ...hyper } = g;
      return {
        ...(hyper as Record<string, Hyper>),
        params: params.map((p) => {
          index.set(p, index.size);
          return index.size - 1;
        }),
      };
    });
    const state: Record<string, ParamState> = {};
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i !== undefined && Object.keys(s).length) state[String(i)] = { ...s };
    }
    return { state, paramGroups };
  }

  /**
   * Restores state saved by `stateDict()` (from an optimizer over parameters of the same shapes, in the same
   * order): hyperparameters and state are copied, so the saved dict stays the caller's. Resuming this way
   * continues bit for bit.
   */
  loadStateDict(stateDict: OptimizerStateDict): void {
    const name = this.constructor.name;
    const saved = stateDict.paramGroups;
    if (saved.length !== this.paramGroups.length) {
      throw new ValueError(`${name}.loadStateDict: the state has ${saved.length} parameter groups, the optimizer ${this.paramGroups.length}`);
    }
    const params: Tensor[] = [];
    saved.forEach((g, gi) => {
      const mine = this.paramGroups[gi]!.params;
      if (g.params.length !== mine.length) {
        throw new ValueError(
          `${name}.loadStateDict: group ${gi} has ${g.params.length} parameters in the state, ${mine.length} in the optimizer`,
        );
      }
      g.params.forEach((saved, k) => (params[saved] = mine[k]!));
    });
    // Check everything before changing anything.
    for (const [key, s] of Object.entries(stateDict.state)) {
      const p = params[Number(key)];
      if (!p) throw new ValueError(`${name}.loadStateDict: state for parameter ${key}, which no group lists`);
      for (const [k, v] of Object.entries(s)) {
        if (typeof v === "number") continue;
        if (v.shape.length !== p.shape.length || v.shape.some((d, i) => d !== p.shape[i])) {
          throw new ValueError(
            `${name}.loadStateDict: state "${k}" of parameter ${key} has shape ${fmtShape(v.shape)}, the parameter ${fmtShape(p.shape)}`,
          );
        }
      }
    }
    const groups = saved.map((g, gi) => {
      const { params: _params, ...hyper } = g;
      const merged = { ...this.paramGroups[gi]!, ...hyper } as ParamGroup<H>;
      this.validate(merged);
      return merged;
    });
    // Copy first, then drop the old state: the dict may hold this optimizer's own arrays.
    const copies = new Map<Tensor, ParamState>();
    for (const [key, s] of Object.entries(stateDict.state)) {
      const p = params[Number(key)]!;
      const copy: ParamState = {};
      for (const [k, v] of Object.entries(s)) {
        if (typeof v === "number") copy[k] = v;
        else {
          const moved = v.to(p.device);
          copy[k] = keep(moved.cast(p.dtype, true));
          if (moved !== v) moved.dispose();
        }
      }
      copies.set(p, copy);
    }
    groups.forEach((g, gi) => Object.assign(this.paramGroups[gi]!, g));
    this.dispose();
    for (const [p, copy] of copies) this.state.set(p, copy);
  }

  /** Frees the state arrays. */
  dispose(): void {
    for (const s of this.state.values()) for (const v of Object.values(s)) if (typeof v === "object") v.dispose();
    this.state.clear();
  }
}

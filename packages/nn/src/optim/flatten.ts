import type { NDArray } from "@backprop/tensor";
import { ValueError } from "@backprop/tensor";
import type { OptimizerStateDict, ParamState, SavedParamGroup } from "./optimizer.ts";

/** An optimizer state dict split for a safetensors file: named arrays, and JSON for the rest. */
export interface FlatOptimizerState {
  /** `${prefix}${param}.${name}` → array, e.g. `optimizer.3.exp_avg`. */
  arrays: Record<string, NDArray>;
  /** Hyperparameters and the numeric state (step counts); JSON numbers round-trip exactly. */
  json: { paramGroups: SavedParamGroup[]; scalars: Record<string, Record<string, number>> };
}

/** Splits `optimizer.stateDict()` into arrays and JSON-able numbers, to save both in one safetensors file. */
export function flattenOptimizerState(state: OptimizerStateDict, prefix = "optimizer."): FlatOptimizerState {
  const arrays: Record<string, NDArray> = {};
  const scalars: Record<string, Record<string, number>> = {};
  for (const [i, s] of Object.entries(state.state)) {
    for (const [k, v] of Object.entries(s)) {
      if (typeof v === "number") (scalars[i] ??= {})[k] = v;
      else arrays[`${prefix}${i}.${k}`] = v;
    }
  }
  return { arrays, json: { paramGroups: state.paramGroups, scalars } };
}

/** The inverse of `flattenOptimizerState`: arrays whose keys do not start with `prefix` are ignored. */
export function unflattenOptimizerState(
  arrays: Record<string, NDArray>,
  json: FlatOptimizerState["json"],
  prefix = "optimizer.",
): OptimizerStateDict {
  const state: Record<string, ParamState> = {};
  for (const [key, v] of Object.entries(arrays)) {
    if (!key.startsWith(prefix)) continue;
    const rest = key.slice(prefix.length);
    const dot = rest.indexOf(".");
    if (dot <= 0 || !/^\d+$/.test(rest.slice(0, dot))) {
      throw new ValueError(`unflattenOptimizerState: "${key}" is not of the form ${prefix}<param>.<name>`);
    }
    (state[rest.slice(0, dot)] ??= {})[rest.slice(dot + 1)] = v;
  }
  for (const [i, s] of Object.entries(json.scalars)) Object.assign((state[i] ??= {}), s);
  return { state, paramGroups: json.paramGroups };
}

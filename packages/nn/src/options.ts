import type { Generator } from "@backprop/tensor";

/**
 * How a layer creates its parameters (PyTorch's `device=`/`dtype=` factory arguments, plus the generator that
 * draws the initial values, so that a seeded model is reproducible without touching the default generator).
 */
export interface FactoryOptions {
  /** Draws the initial values; defaults to the default generator (`manualSeed` sets it). */
  generator?: Generator;
  /** Defaults to float32. */
  dtype?: "float32" | "float64";
  /** Defaults to `"cpu"`. */
  device?: string;
}

import fc from "fast-check";
import type { Backend } from "../backend.ts";
import type { DType, TypedArray } from "../dtype.ts";
import type { NDArray } from "../ndarray.ts";
import { tidy } from "../scope.ts";
import { ConformanceError, type Tolerance } from "./compare.ts";

/** One check of the suite: `run` resolves when the backend conforms and rejects with a descriptive error otherwise. */
export interface ConformanceCase {
  /** What the case checks, e.g. "matmul: 1-D, 2-D, broadcast batches, transposed and strided views". */
  readonly name: string;
  /** Runs the check; rejects with a ConformanceError (or the error an operation threw) on failure. */
  run(): Promise<void>;
}

/** What every group of cases needs to know about the backend under test. */
export interface CaseContext {
  readonly device: string;
  readonly backend: Backend;
  /** Float dtypes to test: float32, and float64 where the backend has it. */
  readonly floatDtypes: readonly ("float32" | "float64")[];
  readonly numRuns: number;
  readonly seed: number | undefined;
  /** Tolerance for results of `dtype` from operation `op`. */
  tolerance(dtype: DType, op: string): Tolerance;
}

/**
 * A case that checks `property` on `runs` random inputs from `arb` (fast-check shrinks a failure to a small
 * counterexample and reports its seed). Afterwards the backend must hold exactly as many storages as before:
 * every array an operation made, temporaries included, has to be released.
 */
export function propertyCase<T>(
  ctx: CaseContext,
  name: string,
  arb: fc.Arbitrary<T>,
  property: (input: T) => Promise<void>,
  runs: number = ctx.numRuns,
): ConformanceCase {
  return {
    name,
    run: async () => {
      const before = ctx.backend.memory().storages;
      const params: fc.Parameters<[T]> = { numRuns: Math.max(1, Math.round(runs)) };
      if (ctx.seed !== undefined) params.seed = ctx.seed;
      await fc.assert(fc.asyncProperty(arb, property), params);
      const after = ctx.backend.memory().storages;
      if (after !== before) {
        throw new ConformanceError(`${name}: ${after - before} storage(s) were still allocated after every array was disposed`);
      }
    },
  };
}

/** A case that runs `body` once (known answers, error checks), with the same storage accounting. */
export function simpleCase(ctx: CaseContext, name: string, body: () => Promise<void> | void): ConformanceCase {
  return {
    name,
    run: async () => {
      const before = ctx.backend.memory().storages;
      await body();
      const after = ctx.backend.memory().storages;
      if (after !== before) {
        throw new ConformanceError(`${name}: ${after - before} storage(s) were still allocated after every array was disposed`);
      }
    },
  };
}

/**
 * Runs `compute` inside `tidy` (so its inputs and temporaries are freed), reads every array it returns with one
 * `data()` each, all in flight together, hands arrays and values to `check`, and disposes the arrays.
 */
export async function evaluate(
  compute: () => NDArray[],
  check: (arrays: NDArray[], values: TypedArray[]) => void,
): Promise<void> {
  const arrays = tidy(compute);
  try {
    const values = await Promise.all(arrays.map((a) => a.data()));
    check(arrays, values);
  } finally {
    for (const a of arrays) a.dispose();
  }
}

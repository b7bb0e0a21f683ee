import { getBackend } from "../backend.ts";
// The CPU backend, which the suite also uses as the other side of transfers and mixed-device errors. A named
// import: under the package's "sideEffects": false a bundler drops a bare one, and with it the registration.
import { cpuBackend } from "../cpu/backend.ts";
import type { DType } from "../dtype.ts";
import type { Tolerance } from "./compare.ts";
import type { CaseContext, ConformanceCase } from "./context.ts";
import { copyCases } from "./cases/copy.ts";
import { convCases } from "./cases/conv.ts";
import { elementwiseCases } from "./cases/elementwise.ts";
import { fusedCases } from "./cases/fused.ts";
import { errorCases } from "./cases/errors.ts";
import { indexingCases } from "./cases/indexing.ts";
import { joinCases } from "./cases/join.ts";
import { matmulCases } from "./cases/matmul.ts";
import { memoryCases } from "./cases/memory.ts";
import { poolCases } from "./cases/pool.ts";
import { randomCases } from "./cases/random.ts";
import { reduceCases } from "./cases/reduce.ts";
import { specialValueCases } from "./cases/special_values.ts";

/** Options of `conformanceCases`. */
export interface ConformanceOptions {
  /** The registered device to test (`"cpu"`, `"webgpu"`). */
  device: string;
  /** Also test float64 (default: the backend's `supportsFloat64`). */
  float64?: boolean;
  /**
   * Allowed differences from the float64 reference. Defaults: float32 `{ rtol: 1e-4, atol: 1e-5 }`, float64
   * `{ rtol: 1e-12, atol: 1e-12 }`, and exact for `rand` (uniform values are exact multiples of 2⁻²⁴ / 2⁻⁵³).
   * `ops` overrides float32 results of single operations, keyed by operation name (`sin`, `matmul`, `conv2d`,
   * `randn`, …), for devices whose float32 intrinsics are less accurate.
   */
  tolerance?: {
    float32?: Tolerance;
    float64?: Tolerance;
    ops?: Readonly<Record<string, Tolerance>>;
  };
  /** Random inputs per property (default 20; some cases scale it). */
  numRuns?: number;
  /** fast-check seed, to replay a reported failure. */
  seed?: number;
}

const DEFAULT_FLOAT32: Tolerance = { rtol: 1e-4, atol: 1e-5 };
const DEFAULT_FLOAT64: Tolerance = { rtol: 1e-12, atol: 1e-12 };
const EXACT: Tolerance = { rtol: 0, atol: 0 };

/**
 * The backend conformance suite: every kernel of the `Backend` interface, reached through the public operations,
 * against the float64 reference implementations on random shapes, layouts and values (fast-check; NaN, ±∞, ±0
 * and subnormals included, with PyTorch's semantics and its recorded answers), plus the typed errors and memory
 * accounting. Framework-agnostic: each case's `run` resolves or throws a descriptive error, so any test runner
 * can host it:
 *
 * ```ts
 * for (const c of conformanceCases({ device: "cpu" })) test(c.name, c.run);      // vitest
 * for (const c of conformanceCases({ device: "webgpu" })) Deno.test(c.name, c.run); // deno test
 * ```
 */
export function conformanceCases(options: ConformanceOptions): ConformanceCase[] {
  const backend = options.device === "cpu" ? cpuBackend : getBackend(options.device);
  const float64 = options.float64 ?? backend.supportsFloat64;
  const tol = options.tolerance ?? {};
  const ctx: CaseContext = {
    device: options.device,
    backend,
    floatDtypes: float64 ? ["float32", "float64"] : ["float32"],
    numRuns: options.numRuns ?? 20,
    seed: options.seed,
    tolerance(dtype: DType, op: string): Tolerance {
      if (dtype === "float64") return op === "rand" ? EXACT : tol.float64 ?? DEFAULT_FLOAT64;
      if (dtype !== "float32") return EXACT;
      return tol.ops?.[op] ?? (op === "rand" ? EXACT : tol.float32 ?? DEFAULT_FLOAT32);
    },
  };
  return [
    ...copyCases(ctx),
    ...elementwiseCases(ctx),
    ...reduceCases(ctx),
    ...specialValueCases(ctx),
    ...fusedCases(ctx),
    ...matmulCases(ctx),
    ...convCases(ctx),
    ...poolCases(ctx),
    ...indexingCases(ctx),
    ...joinCases(ctx),
    ...randomCases(ctx),
    ...memoryCases(ctx),
    ...errorCases(ctx),
  ];
}

/**
 * @module
 * The backend conformance suite and the float64 reference implementations it checks against. A backend is
 * conformant when every case of `conformanceCases({ device })` passes:
 *
 * ```ts
 * import { test } from "vitest";
 * import { conformanceCases } from "@backprop/tensor/testing";
 * for (const c of conformanceCases({ device: "cpu" })) test(c.name, c.run);
 * ```
 */
export { type ConformanceOptions, conformanceCases } from "./conformance.ts";
export type { ConformanceCase } from "./context.ts";
export { ConformanceError, expectMatches, expectRejects, expectThrows, type Tolerance } from "./compare.ts";
/** The float64 reference implementations, for backend authors' own checks. */
export * as reference from "./reference.ts";
export type { Ref, RefWindow } from "./reference.ts";
export { refBlocksFor, refNormal, refPhilox4x32, refStreamWords, refUniform } from "./reference_philox.ts";

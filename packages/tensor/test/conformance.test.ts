import { describe, test } from "vitest";
import { conformanceCases } from "../src/testing/mod.ts";

// The CPU backend must pass the same suite every other backend runs, in float32 and float64.
describe("conformance: cpu (float32 and float64)", () => {
  // More runs than the default: the CPU is fast, and rare combinations get a real chance of being drawn.
  for (const c of conformanceCases({ device: "cpu", numRuns: 60 })) test(c.name, c.run);
});

// softmax / logSoftmax backward run their elementwise tail as one fused pass: equal to the op-by-op chain
// (float64 bit for bit, float32 within 1e-6 relative + 1e-7 absolute: the fused kernel's exp is WebAssembly).
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import * as T from "@backprop/tensor";
import * as ag from "../src/mod.ts";

const caseArb = fc.record({
  rows: fc.integer({ min: 1, max: 5 }),
  cols: fc.integer({ min: 1, max: 900 }), // up to 4,500 elements: large arrays live in kernel memory
  dim: fc.constantFrom(0, 1, -1),
  seed: fc.integer({ min: 1, max: 1e6 }),
});

function values(n: number, seed: number, scale: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return ((s / 2147483648) * 2 - 1) * scale;
  });
}

function gradOf(name: "softmax" | "logSoftmax", x: T.NDArray, g: T.NDArray, dim: number): T.NDArray {
  const leaf = ag.tensor(x, { requiresGrad: true });
  const y = name === "softmax" ? ag.softmax(leaf, dim) : leaf.logSoftmax(dim);
  y.mul(ag.tensor(g)).sum().backward();
  return leaf.grad!.value;
}

/** The backward as the op-by-op chain it replaces. */
function unfused(name: "softmax" | "logSoftmax", x: T.NDArray, g: T.NDArray, dim: number): T.NDArray {
  if (name === "softmax") {
    const out = T.softmax(x, dim);
    return out.mul(g.sub(g.mul(out).sum(dim, true)));
  }
  const out = T.logSoftmax(x, dim);
  return g.sub(out.exp().mul(g.sum(dim, true)));
}

describe("softmax and logSoftmax backward (fused) equal the op-by-op chain", () => {
  for (const name of ["softmax", "logSoftmax"] as const) {
    for (const dtype of ["float64", "float32"] as const) {
      test(`${name} ${dtype}`, () => {
        fc.assert(
          fc.property(caseArb, ({ rows, cols, dim, seed }) => {
            const x = T.tensor(values(rows * cols, seed, 6), { dtype }).reshape([rows, cols]);
            const g = T.tensor(values(rows * cols, seed + 1, 1), { dtype }).reshape([rows, cols]);
            const got = gradOf(name, x, g, dim).dataSync();
            const want = unfused(name, x, g, dim).dataSync();
            expect(got.length).toBe(want.length);
            for (let i = 0; i < got.length; i++) {
              if (dtype === "float64") expect(got[i]).toBe(want[i]);
              else expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(1e-7 + 1e-6 * Math.abs(want[i]!));
            }
          }),
          { numRuns: 40 },
        );
      });
    }
  }
});

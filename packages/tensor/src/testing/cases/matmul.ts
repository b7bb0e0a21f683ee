/**
 * Conformance of the `matmul` kernel: vectors, matrices, broadcast batches, transposed and strided operands; and of
 * `matmulBias` (the optional `matmulBias` kernel, or the composed ops where a backend has none).
 */
import fc from "fast-check";
import { matmul, matmulBias } from "../../ops/matmul.ts";
import { expectMatches } from "../compare.ts";
import { type CaseContext, type ConformanceCase, evaluate, propertyCase } from "../context.ts";
import { broadcastableArb, describe, dimArb, inputArb, materialize, refOf, shapeArb, sparseSpecialsArb } from "../arbitraries.ts";
import { refBinary, refMatmul, refUnary } from "../reference.ts";

export function matmulCases(ctx: CaseContext): ConformanceCase[] {
  const arb = fc.record({
    dtype: fc.constantFrom(...ctx.floatDtypes),
    m: dimArb(6),
    k: dimArb(6),
    n: dimArb(6),
    aVec: fc.boolean(),
    bVec: fc.boolean(),
    batch: shapeArb({ maxRank: 2, maxDim: 3 }),
  }).chain(({ dtype, m, k, n, aVec, bVec, batch }) =>
    fc.tuple(broadcastableArb(batch), broadcastableArb(batch)).chain(([ab, bb]) =>
      fc.tuple(
        inputArb(aVec ? [k] : [...ab, m, k], dtype, { min: -3, max: 3, special: true }),
        inputArb(bVec ? [k] : [...bb, k, n], dtype, { min: -3, max: 3, special: true }),
      )
    )
  );
  // Operands past the blocked kernels' tile sizes, finite but for a few NaN or ±∞: each must reach exactly the
  // outputs of its row or column (and 0 · ∞ give NaN), whatever tile, packing or edge path carries it.
  const size = fc.integer({ min: 1, max: 40 });
  const unit = { min: -1, max: 1 };
  const large = fc.record({ dtype: fc.constantFrom(...ctx.floatDtypes), m: size, k: size, n: size })
    .chain(({ dtype, m, k, n }) => fc.tuple(sparseSpecialsArb([m, k], dtype, unit), sparseSpecialsArb([k, n], dtype, unit)));
  const withBias = fc.record({
    dtype: fc.constantFrom(...ctx.floatDtypes),
    m: dimArb(6),
    k: dimArb(6),
    n: dimArb(6),
    batch: shapeArb({ maxRank: 1, maxDim: 3 }),
    relu: fc.boolean(),
  }).chain(({ dtype, m, k, n, batch, relu }) =>
    fc.tuple(
      inputArb([...batch, m, k], dtype, { min: -3, max: 3, special: true }),
      inputArb([k, n], dtype, { min: -3, max: 3, special: true }),
      inputArb([n], dtype, { min: -3, max: 3, special: true }),
      fc.constant(relu),
    )
  );
  return [
    propertyCase(ctx, "matmulBias: relu(a·b + bias) over batches, transposed and strided operands and biases", withBias, async ([a, b, bias, relu]) => {
      const sum = refBinary("add", refMatmul(refOf(a), refOf(b)), refOf(bias));
      const expected = relu ? refUnary("relu", sum) : sum;
      await evaluate(
        () => [matmulBias(materialize(a, ctx.device), materialize(b, ctx.device), materialize(bias, ctx.device), { relu })],
        ([out], [values]) =>
          expectMatches(
            `matmulBias(${describe(a)}, ${describe(b)}, ${describe(bias)}, { relu: ${relu} })`,
            out!,
            values!,
            expected,
            ctx.tolerance(expected.dtype, "matmul"),
          ),
      );
    }),
    propertyCase(ctx, "matmul: NaN and ±∞ in large operands reach exactly their row's and column's outputs", large, async ([a, b]) => {
      const expected = refMatmul(refOf(a), refOf(b));
      await evaluate(
        () => [matmul(materialize(a, ctx.device), materialize(b, ctx.device))],
        ([out], [values]) =>
          expectMatches(`matmul(${describe(a)}, ${describe(b)})`, out!, values!, expected, ctx.tolerance(expected.dtype, "matmul")),
      );
    }),
    propertyCase(ctx, "matmul: 1-D, 2-D, broadcast batches, transposed and strided views", arb, async ([a, b]) => {
      const expected = refMatmul(refOf(a), refOf(b));
      await evaluate(
        () => [matmul(materialize(a, ctx.device), materialize(b, ctx.device))],
        ([out], [values]) =>
          expectMatches(`matmul(${describe(a)}, ${describe(b)})`, out!, values!, expected, ctx.tolerance(expected.dtype, "matmul")),
      );
    }, ctx.numRuns * 2),
  ];
}

/** Conformance of `concat` and `stack` (strided copies into a new array, with dtype promotion). */
import fc from "fast-check";
import type { DType } from "../../dtype.ts";
import { concat, stack } from "../../ops/join.ts";
import { expectMatches } from "../compare.ts";
import { type CaseContext, type ConformanceCase, evaluate, propertyCase } from "../context.ts";
import { describe, dimArb, inputArb, materialize, refOf, shapeArb } from "../arbitraries.ts";
import { refConcat, refStack } from "../reference.ts";

export function joinCases(ctx: CaseContext): ConformanceCase[] {
  const dtypes: DType[] = [...ctx.floatDtypes, "int32", "bool"];
  const concatArb = fc.record({ shape: shapeArb({ minRank: 1, maxRank: 3 }), sizes: fc.array(dimArb(3), { minLength: 1, maxLength: 4 }), neg: fc.boolean() })
    .chain(({ shape, sizes, neg }) =>
      fc.integer({ min: 0, max: shape.length - 1 }).chain((d) =>
        fc.tuple(
          fc.constant(neg ? d - shape.length : d),
          fc.tuple(...sizes.map((size) => {
            const s = [...shape];
            s[d] = size;
            return fc.constantFrom(...dtypes).chain((dtype) => inputArb(s, dtype));
          })),
        )
      )
    );
  const stackArb = fc.record({ shape: shapeArb({ maxRank: 3 }), count: fc.integer({ min: 1, max: 4 }), dtype: fc.constantFrom(...dtypes) })
    .chain(({ shape, count, dtype }) =>
      fc.tuple(
        fc.integer({ min: -(shape.length + 1), max: shape.length }),
        fc.array(inputArb(shape, dtype), { minLength: count, maxLength: count }),
      )
    );
  return [
    propertyCase(ctx, "concat along any axis (size-0 pieces, mixed dtypes, strided pieces)", concatArb, async ([dim, pieces]) => {
      const expected = refConcat(pieces.map(refOf), dim);
      await evaluate(
        () => [concat(pieces.map((p) => materialize(p, ctx.device)), dim)],
        ([out], [values]) =>
          expectMatches(`concat([${pieces.map(describe).join("; ")}], ${dim})`, out!, values!, expected, { rtol: 0, atol: 0 }, true),
      );
    }),
    propertyCase(ctx, "stack along a new axis (0-d arrays included)", stackArb, async ([dim, pieces]) => {
      const expected = refStack(pieces.map(refOf), dim);
      await evaluate(
        () => [stack(pieces.map((p) => materialize(p, ctx.device)), dim)],
        ([out], [values]) =>
          expectMatches(`stack([${pieces.map(describe).join("; ")}], ${dim})`, out!, values!, expected, { rtol: 0, atol: 0 }, true),
      );
    }),
  ];
}

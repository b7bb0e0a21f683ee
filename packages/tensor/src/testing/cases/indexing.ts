/** Conformance of `gather`, `scatterAdd`, `indexSelect` and `indexAdd`, and of `oneHot` built on them. */
import fc from "fast-check";
import type { DType } from "../../dtype.ts";
import * as idx from "../../ops/indexing.ts";
import { expectMatches } from "../compare.ts";
import { type CaseContext, type ConformanceCase, evaluate, propertyCase } from "../context.ts";
import { describe, dimArb, inputArb, type InputSpec, materialize, refOf, shapeArb } from "../arbitraries.ts";
import { refGather, refIndexAdd, refIndexSelect, refOneHot, refScatterAdd } from "../reference.ts";

/** An input shape, an axis (maybe negative) and the length the index has along it (0 when the axis is empty). */
function axisSetupArb(dtypes: readonly DType[]) {
  return fc.record({ dtype: fc.constantFrom(...dtypes), shape: shapeArb({ minRank: 1, maxRank: 3 }), len: dimArb(5), neg: fc.boolean() })
    .chain(({ dtype, shape, len, neg }) =>
      fc.integer({ min: 0, max: shape.length - 1 }).map((d) => ({
        dtype,
        shape,
        d,
        dim: neg ? d - shape.length : d,
        len: shape[d] === 0 ? 0 : len,
      }))
    );
}

function indexArb(shape: readonly number[], axisSize: number): fc.Arbitrary<InputSpec> {
  return inputArb(shape, "int32", { min: 0, max: Math.max(0, axisSize - 1), integer: true });
}

function withDim(shape: readonly number[], d: number, size: number): number[] {
  const s = [...shape];
  s[d] = size;
  return s;
}

export function indexingCases(ctx: CaseContext): ConformanceCase[] {
  const valueDtypes: DType[] = [...ctx.floatDtypes, "int32"];
  const gatherArb = axisSetupArb(valueDtypes).chain((s) =>
    fc.record({
      dim: fc.constant(s.dim),
      x: inputArb(s.shape, s.dtype),
      index: indexArb(withDim(s.shape, s.d, s.len), s.shape[s.d]!),
      src: inputArb(withDim(s.shape, s.d, s.len), s.dtype),
    })
  );
  const selectArb = axisSetupArb(valueDtypes).chain((s) =>
    fc.record({
      dim: fc.constant(s.dim),
      x: inputArb(s.shape, s.dtype),
      index: indexArb([s.len], s.shape[s.d]!),
      src: inputArb(withDim(s.shape, s.d, s.len), s.dtype),
    })
  );
  const oneHotArb = fc.record({ shape: shapeArb({ maxRank: 2 }), classes: fc.integer({ min: 1, max: 5 }), dtype: fc.constantFrom<DType | undefined>(undefined, "float32", "bool", "int32") })
    .chain(({ shape, classes, dtype }) => indexArb(shape, classes).map((labels) => ({ labels, classes, dtype })));

  return [
    propertyCase(ctx, "gather and scatterAdd along any axis (repeated indices accumulate)", gatherArb, async (c) => {
      const x = refOf(c.x), index = refOf(c.index), src = refOf(c.src);
      const gathered = refGather(x, c.dim, index);
      const scattered = refScatterAdd(x, c.dim, index, src);
      const what = `(${describe(c.x)}, dim ${c.dim}, index ${describe(c.index)}`;
      await evaluate(
        () => {
          const xa = materialize(c.x, ctx.device), ia = materialize(c.index, ctx.device);
          return [idx.gather(xa, c.dim, ia), idx.scatterAdd(xa, c.dim, ia, materialize(c.src, ctx.device))];
        },
        ([g, s], [gv, sv]) => {
          expectMatches(`gather${what})`, g!, gv!, gathered, { rtol: 0, atol: 0 }, true);
          expectMatches(`scatterAdd${what}, src ${describe(c.src)})`, s!, sv!, scattered, ctx.tolerance(scattered.dtype, "scatterAdd"));
        },
      );
    }),
    propertyCase(ctx, "indexSelect and indexAdd along any axis", selectArb, async (c) => {
      const x = refOf(c.x), index = refOf(c.index), src = refOf(c.src);
      const selected = refIndexSelect(x, c.dim, index);
      const added = refIndexAdd(x, c.dim, index, src);
      const what = `(${describe(c.x)}, dim ${c.dim}, index ${describe(c.index)}`;
      await evaluate(
        () => {
          const xa = materialize(c.x, ctx.device), ia = materialize(c.index, ctx.device);
          return [idx.indexSelect(xa, c.dim, ia), idx.indexAdd(xa, c.dim, ia, materialize(c.src, ctx.device))];
        },
        ([s, a], [sv, av]) => {
          expectMatches(`indexSelect${what})`, s!, sv!, selected, { rtol: 0, atol: 0 }, true);
          expectMatches(`indexAdd${what}, src ${describe(c.src)})`, a!, av!, added, ctx.tolerance(added.dtype, "indexAdd"));
        },
      );
    }),
    propertyCase(ctx, "oneHot of int32 labels", oneHotArb, async ({ labels, classes, dtype }) => {
      const expected = refOneHot(refOf(labels), classes, dtype ?? "int32");
      await evaluate(
        () => [idx.oneHot(materialize(labels, ctx.device), classes, dtype ? { dtype } : {})],
        ([h], [hv]) => expectMatches(`oneHot(${describe(labels)}, ${classes}, ${dtype})`, h!, hv!, expected, { rtol: 0, atol: 0 }),
      );
    }),
  ];
}

/** Conformance of the `reduce` and `argReduce` kernels, and of the operations composed from them. */
import fc from "fast-check";
import type { DType } from "../../dtype.ts";
import * as red from "../../ops/reduce.ts";
import * as soft from "../../ops/softmax.ts";
import { expectMatches } from "../compare.ts";
import { type CaseContext, type ConformanceCase, evaluate, propertyCase, simpleCase } from "../context.ts";
import { ConformanceError } from "../compare.ts";
import * as idx from "../../ops/indexing.ts";
import { tensor } from "../../ops/creation.ts";
import type { NDArray } from "../../ndarray.ts";
import { describe, type Domain, inputArb, materialize, refOf, shapeArb, type ShapeOptions } from "../arbitraries.ts";
import { refArgReduce, refLogSumExp, refMean, refReduce, type RefReduceOp, refSoftmax, refVar, resolveAxes } from "../reference.ts";

type Axes = number | number[] | undefined;

/** Axes to reduce: all (undefined), one (maybe negative), or several in any order and sign; 0-d arrays take 0 and −1. */
function axesArb(rank: number): fc.Arbitrary<Axes> {
  if (rank === 0) return fc.constantFrom<Axes>(undefined, 0, -1);
  const dims = Array.from({ length: rank }, (_, i) => i);
  const list = fc.shuffledSubarray(dims, { minLength: 1 })
    .chain((ds) => fc.array(fc.boolean(), { minLength: ds.length, maxLength: ds.length }).map((neg) => ds.map((d, i) => (neg[i] ? d - rank : d))));
  return fc.oneof(
    fc.constant<Axes>(undefined),
    fc.integer({ min: -rank, max: rank - 1 }),
    list,
  );
}

function reducedSize(shape: readonly number[], axes: Axes): number {
  return resolveAxes(axes, shape.length).reduce((a, d) => a * (shape[d] ?? 1), 1);
}

function fmtAxes(axes: Axes): string {
  return axes === undefined ? "all" : JSON.stringify(axes);
}

const REDUCE_SETUP: Record<RefReduceOp, { shape: ShapeOptions; domain: Domain; intDomain: Domain }> = {
  sum: { shape: {}, domain: { min: -10, max: 10, special: true }, intDomain: { min: -100, max: 100 } },
  // Small magnitudes and few elements keep products finite (and int32 products exact).
  prod: { shape: { maxRank: 3, maxDim: 3 }, domain: { min: -1.6, max: 1.6, special: true }, intDomain: { min: -2, max: 2 } },
  max: { shape: {}, domain: { min: -3, max: 3, special: true }, intDomain: { min: -3, max: 3 } },
  min: { shape: {}, domain: { min: -3, max: 3, special: true }, intDomain: { min: -3, max: 3 } },
};

function reduceCase(ctx: CaseContext, op: RefReduceOp): ConformanceCase {
  const setup = REDUCE_SETUP[op];
  const dtypes: DType[] = [...ctx.floatDtypes, "int32", ...(op === "sum" ? ["bool" as const] : [])];
  const arb = fc.record({ dtype: fc.constantFrom(...dtypes), shape: shapeArb(setup.shape), keepdim: fc.boolean() })
    .chain(({ dtype, shape, keepdim }) =>
      fc.tuple(inputArb(shape, dtype, dtype === "int32" ? setup.intDomain : setup.domain), axesArb(shape.length), fc.constant(keepdim))
    )
    // max and min of nothing are undefined (an error, tested with the errors).
    .filter(([x, axes]) => op === "sum" || op === "prod" || reducedSize(x.shape, axes) > 0);
  return propertyCase(ctx, `reduce: ${op} over any axes, keepdim`, arb, async ([x, axes, keepdim]) => {
    const expected = refReduce(op, refOf(x), axes, keepdim);
    await evaluate(
      () => [red[op](materialize(x, ctx.device), axes, keepdim)],
      ([out], [values]) =>
        expectMatches(`${op}(${describe(x)}, dim ${fmtAxes(axes)}, keepdim ${keepdim})`, out!, values!, expected, ctx.tolerance(expected.dtype, op)),
    );
  });
}

function argReduceCase(ctx: CaseContext, op: "argmax" | "argmin"): ConformanceCase {
  const arb = fc.record({ dtype: fc.constantFrom<DType>(...ctx.floatDtypes, "int32"), shape: shapeArb(), keepdim: fc.boolean() })
    .chain(({ dtype, shape, keepdim }) => {
      const dim = shape.length === 0
        ? fc.constantFrom<number | undefined>(undefined, 0, -1)
        : fc.option(fc.integer({ min: -shape.length, max: shape.length - 1 }), { nil: undefined });
      // A narrow range of values makes ties common: the first extreme must win (and the first NaN).
      return fc.tuple(inputArb(shape, dtype, { min: -2, max: 2, special: true }), dim, fc.constant(keepdim));
    })
    .filter(([x, dim]) => (dim === undefined ? x.shape.reduce((a, b) => a * b, 1) : x.shape[dim < 0 ? dim + x.shape.length : dim] ?? 1) > 0);
  return propertyCase(ctx, `reduce: ${op} (first index on ties)`, arb, async ([x, dim, keepdim]) => {
    const expected = refArgReduce(op, refOf(x), dim, keepdim);
    await evaluate(
      () => [red[op](materialize(x, ctx.device), dim, keepdim)],
      ([out], [values]) =>
        expectMatches(`${op}(${describe(x)}, dim ${dim}, keepdim ${keepdim})`, out!, values!, expected, { rtol: 0, atol: 0 }),
    );
  });
}

function meanVarCase(ctx: CaseContext): ConformanceCase {
  const arb = fc.record({
    dtype: fc.constantFrom<DType>(...ctx.floatDtypes, "int32"),
    shape: shapeArb(),
    keepdim: fc.boolean(),
    correction: fc.constantFrom(0, 1),
  })
    .chain(({ dtype, shape, keepdim, correction }) =>
      fc.tuple(inputArb(shape, dtype, { min: -10, max: 10, special: true }), axesArb(shape.length), fc.constant(keepdim), fc.constant(correction))
    )
    .filter(([x, axes, , correction]) => reducedSize(x.shape, axes) > correction);
  return propertyCase(ctx, "reduce: mean and var (composed)", arb, async ([x, axes, keepdim, correction]) => {
    const ref = refOf(x);
    const floatRef = x.dtype === "int32" ? { ...ref, dtype: "float32" as const } : ref;
    const expectedMean = refMean(floatRef, axes, keepdim);
    const expectedVar = refVar(floatRef, axes, correction, keepdim);
    await evaluate(
      () => {
        const a = materialize(x, ctx.device);
        return [red.mean(a, axes, keepdim), ...(x.dtype === "int32" ? [] : [red.variance(a, axes, { correction, keepdim })])];
      },
      ([m, v], [mv, vv]) => {
        const what = `(${describe(x)}, dim ${fmtAxes(axes)}, keepdim ${keepdim}`;
        expectMatches(`mean${what})`, m!, mv!, expectedMean, ctx.tolerance(expectedMean.dtype, "mean"));
        if (v) expectMatches(`var${what}, correction ${correction})`, v, vv!, expectedVar, ctx.tolerance(expectedVar.dtype, "var"));
      },
    );
  });
}

function softmaxCase(ctx: CaseContext): ConformanceCase {
  const arb = fc.record({ dtype: fc.constantFrom(...ctx.floatDtypes), shape: shapeArb(), big: fc.boolean() })
    .chain(({ dtype, shape, big }) => {
      const dim = shape.length === 0 ? fc.constantFrom(0, -1) : fc.integer({ min: -shape.length, max: shape.length - 1 });
      // Large logits check the max-shift: exp(500) overflows even float64.
      return fc.tuple(inputArb(shape, dtype, big ? { min: 400, max: 500 } : { min: -10, max: 10, special: true }), dim);
    });
  return propertyCase(ctx, "softmax and logSoftmax (stable for large logits)", arb, async ([x, dim]) => {
    const ref = refOf(x);
    const expectedSoft = refSoftmax(ref, dim, false);
    const expectedLog = refSoftmax(ref, dim, true);
    await evaluate(
      () => {
        const a = materialize(x, ctx.device);
        return [soft.softmax(a, dim), soft.logSoftmax(a, dim)];
      },
      ([s, l], [sv, lv]) => {
        expectMatches(`softmax(${describe(x)}, ${dim})`, s!, sv!, expectedSoft, ctx.tolerance(x.dtype, "softmax"));
        expectMatches(`logSoftmax(${describe(x)}, ${dim})`, l!, lv!, expectedLog, ctx.tolerance(x.dtype, "logSoftmax"));
      },
    );
  });
}

function logSumExpCase(ctx: CaseContext): ConformanceCase {
  const arb = fc.record({ dtype: fc.constantFrom(...ctx.floatDtypes), shape: shapeArb({ minRank: 1, allowZero: false }), keepdim: fc.boolean() })
    .chain(({ dtype, shape, keepdim }) =>
      fc.tuple(inputArb(shape, dtype, { min: -50, max: 50, special: true }), axesArb(shape.length).filter((a) => a !== undefined), fc.constant(keepdim))
    );
  return propertyCase(ctx, "logSumExp over any axes", arb, async ([x, axes, keepdim]) => {
    const expected = refLogSumExp(refOf(x), axes, keepdim);
    await evaluate(
      () => [soft.logSumExp(materialize(x, ctx.device), axes as number | number[], keepdim)],
      ([out], [values]) =>
        expectMatches(`logSumExp(${describe(x)}, ${fmtAxes(axes)}, keepdim ${keepdim})`, out!, values!, expected, ctx.tolerance(x.dtype, "logSumExp")),
    );
  });
}

/**
 * Reductions of larger permuted, sliced and broadcast views (tens to thousands of elements per row), which reach
 * the kernels' fast paths (SIMD row sums, strided sums, workgroup trees) that the small shapes above rarely do.
 * The views are reduced in place; the results must match the reference all the same.
 */
function largeViewCase(ctx: CaseContext): ConformanceCase {
  const shape = fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 2, maxLength: 4 })
    .filter((s) => s.reduce((a, b) => a * b, 1) <= 6000);
  const arb = fc.record({ dtype: fc.constantFrom<DType>(...ctx.floatDtypes, "int32"), shape, keepdim: fc.boolean() })
    .chain(({ dtype, shape, keepdim }) =>
      fc.tuple(
        inputArb(shape, dtype, dtype === "int32" ? { min: -50, max: 50 } : { min: -3, max: 3, special: true }),
        axesArb(shape.length),
        fc.integer({ min: 0, max: shape.length - 1 }),
        fc.constant(keepdim),
      )
    );
  return propertyCase(ctx, "reduce: sum, max, argmax and argmin of large strided views", arb, async ([x, axes, dim, keepdim]) => {
    const ref = refOf(x);
    const wantSum = refReduce("sum", ref, axes, keepdim), wantMax = refReduce("max", ref, axes, keepdim);
    const wantArgmax = refArgReduce("argmax", ref, dim, keepdim), wantArgmin = refArgReduce("argmin", ref, dim, keepdim);
    const what = `(${describe(x)}, dim ${fmtAxes(axes)}, keepdim ${keepdim})`;
    await evaluate(
      () => {
        const a = materialize(x, ctx.device);
        return [red.sum(a, axes, keepdim), red.max(a, axes, keepdim), red.argmax(a, dim, keepdim), red.argmin(a, dim, keepdim)];
      },
      ([s, m, amax, amin], [sv, mv, amaxv, aminv]) => {
        expectMatches(`sum${what}`, s!, sv!, wantSum, ctx.tolerance(wantSum.dtype, "sum"));
        expectMatches(`max${what}`, m!, mv!, wantMax, ctx.tolerance(wantMax.dtype, "max"));
        const argWhat = `(${describe(x)}, dim ${dim}, keepdim ${keepdim})`;
        expectMatches(`argmax${argWhat}`, amax!, amaxv!, wantArgmax, { rtol: 0, atol: 0 });
        expectMatches(`argmin${argWhat}`, amin!, aminv!, wantArgmin, { rtol: 0, atol: 0 });
      },
    );
  });
}

/**
 * Reductions and axis indexing read strided views where they are: no `copy` kernel runs for a transposed,
 * permuted, sliced or broadcast operand (the backend's copy is counted while they run).
 */
function noCopyCase(ctx: CaseContext): ConformanceCase {
  return simpleCase(ctx, "reduce and indexing: strided operands are read in place, without a copy", async () => {
    const backend = ctx.backend;
    const copy = backend.copy;
    let copies = 0;
    backend.copy = (src, dst) => {
      copies++;
      copy.call(backend, src, dst);
    };
    const made: NDArray[] = [];
    const keep = <T extends NDArray>(a: T): T => (made.push(a), a);
    try {
      const values = Array.from({ length: 24 * 40 }, (_, i) => ((i * 37) % 101) / 10 - 5);
      const x = keep(tensor(values, { shape: [24, 40], device: ctx.device }));
      const x3 = keep(x.reshape([4, 6, 40]));
      const index = keep(tensor(Array.from({ length: 40 * 24 }, (_, i) => (i * 7) % 24), { shape: [40, 24], dtype: "int32", device: ctx.device }));
      const row = keep(tensor([3, 0, 3, 39], { dtype: "int32", device: ctx.device }));
      const before = copies;
      const results = [
        red.sum(keep(x.transpose(0, 1)), 0),
        red.sum(keep(x3.permute([2, 0, 1])), [0, 2]),
        red.max(keep(x.slice(1, 1, 39, 3)), 0),
        red.min(keep(keep(keep(x.slice(0, 0, 24, 2)).unsqueeze(0)).expand([3, 12, 40])), [0, 1]),
        red.argmax(keep(x.transpose(0, 1)), 0),
        red.argmin(keep(x3.permute([1, 2, 0])), 1),
        idx.gather(keep(x.transpose(0, 1)), 1, keep(index.slice(0, 0, 40))),
        idx.scatterAdd(keep(x.transpose(0, 1)), 1, keep(keep(index.transpose(0, 1)).transpose(0, 1)), keep(x.transpose(0, 1))),
        idx.indexSelect(keep(x.transpose(0, 1)), 0, row),
      ];
      made.push(...results);
      const during = copies - before;
      for (const r of results) await r.data();
      if (during !== 0) throw new ConformanceError(`${during} copy kernel(s) ran for reductions and gathers of strided views`);
    } finally {
      backend.copy = copy;
      for (const a of made) a.dispose();
    }
  });
}

export function reduceCases(ctx: CaseContext): ConformanceCase[] {
  return [
    largeViewCase(ctx),
    noCopyCase(ctx),
    reduceCase(ctx, "sum"),
    reduceCase(ctx, "prod"),
    reduceCase(ctx, "max"),
    reduceCase(ctx, "min"),
    argReduceCase(ctx, "argmax"),
    argReduceCase(ctx, "argmin"),
    meanVarCase(ctx),
    softmaxCase(ctx),
    logSumExpCase(ctx),
  ];
}

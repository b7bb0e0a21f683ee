/**
 * Shared generators for the gradient property tests: shapes, values kept away from an op's kinks, and float64
 * leaves laid out contiguously or as non-contiguous views (so every backward rule also sees strided inputs).
 */
import fc from "fast-check";
import * as T from "@backprop/tensor";
import { concat, gradcheck, GradcheckError, type GradcheckOptions, linspace, Tensor } from "../src/mod.ts";

export type Layout = "contiguous" | "permuted" | "strided";

/**
 * A float64 leaf that requires a gradient and holds `values` (row-major for `shape`), stored as `layout`:
 * "permuted" is the reversed-dimension view of a copy laid out backwards, "strided" takes every other element
 * of a buffer twice as wide along the last dimension (starting at offset 1). Both are non-contiguous views.
 */
export function leaf(values: readonly number[], shape: readonly number[], layout: Layout = "contiguous", requiresGrad = true): Tensor {
  const c = T.tensor(Float64Array.from(values), { shape, dtype: "float64" });
  if (layout === "contiguous" || shape.length === 0) return new Tensor(c, { requiresGrad });
  if (layout === "permuted") {
    const reverse = shape.map((_, i) => shape.length - 1 - i);
    const backwards = c.permute(reverse).contiguous();
    return new Tensor(backwards.permute(reverse), { requiresGrad });
  }
  const last = shape.length - 1;
  const wide = [...shape];
  wide[last]! *= 2;
  const buffer = T.full(wide, Number.NaN, { dtype: "float64" });
  const window = buffer.slice(last, 1, undefined, 2);
  buffer.backend.copy(c, window);
  return new Tensor(window, { requiresGrad });
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Shapes of rank `minRank…maxRank` with sizes `1…maxDim` (size-1 dimensions come up often). */
export function shapeArb(minRank = 0, maxRank = 3, maxDim = 3): fc.Arbitrary<number[]> {
  return fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: minRank, maxLength: maxRank });
}

export const layoutArb: fc.Arbitrary<Layout> = fc.constantFrom("contiguous", "permuted", "strided");

const double = (min: number, max: number) => fc.double({ min, max, noNaN: true, noDefaultInfinity: true });

/** Values on a smooth stretch of every op. */
export const smooth: fc.Arbitrary<number> = double(-2, 2);
/** Positive values, bounded away from 0 (log, sqrt, reciprocal, rsqrt, a pow base). */
export const positive: fc.Arbitrary<number> = double(0.2, 2);
/**
 * ±(0.1 + u), u ∈ [0, 1]: at least 0.1 from the kink at 0 of relu, abs, sign, elu, prod's x / x — far
 * beyond the finite-difference step eps = 1e-6.
 */
export const awayFromZero: fc.Arbitrary<number> = fc.tuple(fc.boolean(), double(0.1, 1.1)).map(([s, u]) => (s ? u : -u));

/**
 * Two interleaved lattices: `lowLattice` gives 0.2·i + u, `highLattice` 0.2·j + 0.1 + v with u, v ∈ [0, 0.05],
 * so a value of one is always ≥ 0.05 from any value of the other. Used for maximum/minimum and clamp, whose
 * gradient switches where the two arguments (or the value and a bound) meet.
 */
export const lowLattice: fc.Arbitrary<number> = fc.tuple(fc.integer({ min: -8, max: 8 }), double(0, 0.05)).map(([i, u]) => 0.2 * i + u);
export const highLattice: fc.Arbitrary<number> = fc.tuple(fc.integer({ min: -8, max: 8 }), double(0, 0.05)).map(([i, u]) => 0.2 * i + 0.1 + u);

export function valuesArb(n: number, element: fc.Arbitrary<number> = smooth): fc.Arbitrary<number[]> {
  return fc.array(element, { minLength: n, maxLength: n });
}

/**
 * `n` pairwise distinct values: a random permutation of 0.2·k (k < n), centred, plus a jitter in [0, 0.1].
 * Neighbours differ by ≥ 0.1 ≫ 2·eps, so the arg-max of max/min/maxPool cannot switch under a ±eps nudge.
 */
export function distinctValuesArb(n: number): fc.Arbitrary<number[]> {
  const order = Array.from({ length: n }, (_, i) => i);
  return fc.tuple(fc.shuffledSubarray(order, { minLength: n, maxLength: n }), valuesArb(n, double(0, 0.1)))
    .map(([perm, jitter]) => perm.map((k, i) => 0.2 * (k - n / 2) + jitter[i]!));
}

export interface InputSpec {
  shape: number[];
  values: number[];
  layout: Layout;
}

/** Shape, values (from `element`, or `values(n)`) and layout of one leaf. */
export function inputArb(
  shape: fc.Arbitrary<number[]>,
  element: fc.Arbitrary<number> | ((n: number) => fc.Arbitrary<number[]>) = smooth,
): fc.Arbitrary<InputSpec> {
  return shape.chain((s) =>
    fc.record({
      shape: fc.constant(s),
      values: typeof element === "function" ? element(sizeOf(s)) : valuesArb(sizeOf(s), element),
      layout: layoutArb,
    })
  );
}

export const toLeaf = (spec: InputSpec, requiresGrad = true): Tensor => leaf(spec.values, spec.shape, spec.layout, requiresGrad);

/**
 * Two shapes that broadcast to a common one: a base shape, from which each operand drops some leading
 * dimensions and turns some others into 1.
 */
export function broadcastShapesArb(maxRank = 3, maxDim = 3): fc.Arbitrary<[number[], number[]]> {
  const operand = (base: number[]) =>
    fc.tuple(fc.integer({ min: 0, max: base.length }), fc.array(fc.boolean(), { minLength: base.length, maxLength: base.length }))
      .map(([drop, ones]) => base.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)));
  return shapeArb(0, maxRank, maxDim).chain((base) => fc.tuple(operand(base), operand(base)));
}

/** Reduction dims for rank `r`: all (undefined), one axis (maybe negative), or a non-empty set of axes. */
export function dimsArb(rank: number): fc.Arbitrary<number | number[] | undefined> {
  if (rank === 0) return fc.constant(undefined);
  const axes = Array.from({ length: rank }, (_, i) => i);
  return fc.oneof(
    fc.constant(undefined),
    fc.integer({ min: -rank, max: rank - 1 }),
    fc.tuple(fc.shuffledSubarray(axes, { minLength: 1 }), fc.boolean()).map(([d, neg]) => (neg ? d.map((a) => a - rank) : d)),
  );
}

/**
 * A constant of magnitude 1e3…4e3 (log-uniform) and either sign, hashed from the inputs' values: fast-check's
 * random inputs make it random, and shrinking or replaying a failure brings the same offset back with them.
 * Why not larger: an output near 1e4 holds only ~1e-12 of absolute precision, which a central difference with
 * eps = 1e-6 turns into ~1e-6 of noise per output an input moves — tens of them (a conv weight, a batch-norm
 * column) reach the tolerance 1e-5 by rounding alone, whatever the formula.
 */
export function largeOffsetFor(inputs: readonly Tensor[]): number {
  let hash = 0x811c9dc5;
  for (const x of inputs) {
    const bytes = new Uint8Array(Float64Array.from(x.value.dataSync() as Float64Array).buffer);
    for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193);
  }
  const u = (hash >>> 0) / 2 ** 32;
  return (hash & 1 ? -1 : 1) * 1e3 * 4 ** u;
}

/**
 * `fn` with large outputs, as a batch gives them: its outputs shifted by `offset` and flattened, followed by 1024
 * outputs spread over ±1e4 that no input moves (as β = 100·i spreads a batch-norm layer's other features — most
 * of a batch's outputs do not depend on any one input element). The gradients stay those of `fn`. A finite
 * difference that projects each probe's outputs before subtracting them sums terms of size 1e4 and loses the
 * derivative's digits to their rounding; differenced first, the unmoved outputs cancel exactly.
 */
export function withLargeOutputs(fn: (...xs: Tensor[]) => Tensor, offset: number): (...xs: Tensor[]) => Tensor {
  const unmoved = linspace(-1e4, 1e4, 1024, { dtype: "float64" });
  return (...xs) => concat([fn(...xs).add(offset).reshape([-1]), unmoved]);
}

/**
 * Runs gradcheck on `fn`, then on `withLargeOutputs(fn, largeOffsetFor(inputs))`, and fails the property with
 * gradcheck's message (input, index, both values) on a mismatch.
 */
export function check(fn: (...xs: Tensor[]) => Tensor, inputs: readonly Tensor[], options?: GradcheckOptions): void {
  gradcheck(fn, inputs, options);
  const offset = largeOffsetFor(inputs);
  try {
    gradcheck(withLargeOutputs(fn, offset), inputs, options);
  } catch (e) {
    if (e instanceof GradcheckError) e.message = `with large outputs (offset ${offset}): ${e.message}`;
    throw e;
  }
}


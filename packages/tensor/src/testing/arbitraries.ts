/**
 * fast-check generators for the conformance suite: shapes (size-0 and size-1 dimensions, 0-d scalars), memory
 * layouts (contiguous, permuted, sliced with steps and negative starts, broadcast by expand) and values, combined
 * into input specifications that turn into both a device array and its float64 reference.
 */
import fc from "fast-check";
import type { DType, TypedArray } from "../dtype.ts";
import type { NDArray } from "../ndarray.ts";
import { tensor } from "../ops/creation.ts";
import { ravel, type Ref, refArray, sizeOfShape, storeAs, unravel } from "./reference.ts";

/** How an input array is laid out over its storage. */
export type Layout =
  | { readonly kind: "contiguous" }
  /** A permutation of a contiguous array: `base.permute(perm)`. */
  | { readonly kind: "permute"; readonly perm: readonly number[] }
  /** Every `step`-th element from `start` along `dim` of a larger array (`start` negative: counted from its end). */
  | { readonly kind: "slice"; readonly dim: number; readonly start: number; readonly step: number; readonly tail: number; readonly fromEnd: boolean }
  /** A broadcast of an array that has size 1 in `dims`: `base.expand(shape)`. */
  | { readonly kind: "expand"; readonly dims: readonly number[] };

/** An input array: its logical shape and dtype, its layout, and the row-major values of its storage. */
export interface InputSpec {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly layout: Layout;
  readonly base: readonly number[];
}

/** Range of generated values; `integer` restricts to whole numbers. */
export interface Domain {
  readonly min: number;
  readonly max: number;
  readonly integer?: boolean;
  /** Magnitudes below this are replaced by ±`avoid` (keeps divisors and log arguments away from 0). */
  readonly avoid?: number;
  /** Also draw halves k/2 (ties for rounding). */
  readonly halves?: boolean;
  /**
   * Float inputs sometimes also hold NaN, ±∞, ±0 and subnormal values (`SPECIAL_VALUES`), outside `min`…`max`
   * and `avoid`: the edge cases where the backends' arithmetic differs most from textbook definitions.
   */
  readonly special?: boolean;
}

/**
 * The IEEE-754 edge values the conformance inputs draw, by float dtype: NaN, ±∞, ±0 and subnormals (the
 * smallest positive one and one close to the normal range). float32 values are exact in float32.
 */
export const SPECIAL_VALUES: Readonly<Record<"float32" | "float64", readonly number[]>> = {
  float32: [NaN, Infinity, -Infinity, 0, -0, 2 ** -149, -(2 ** -149), 2 ** -127, -(2 ** -127)],
  float64: [NaN, Infinity, -Infinity, 0, -0, 2 ** -1074, -(2 ** -1074), 2 ** -1023, -(2 ** -1023)],
};

export const DEFAULT_DOMAIN: Domain = { min: -5, max: 5, special: true };

/** One dimension: mostly 2–5, often 1, rarely 0. */
export function dimArb(max = 5, allowZero = true): fc.Arbitrary<number> {
  const options = [
    { weight: 4, arbitrary: fc.constant(1) },
    { weight: 12, arbitrary: fc.integer({ min: 2, max }) },
  ];
  if (allowZero) options.push({ weight: 1, arbitrary: fc.constant(0) });
  return fc.oneof(...options);
}

export interface ShapeOptions {
  minRank?: number;
  maxRank?: number;
  maxDim?: number;
  allowZero?: boolean;
}

export function shapeArb(options: ShapeOptions = {}): fc.Arbitrary<number[]> {
  const { minRank = 0, maxRank = 4, maxDim = 5, allowZero = true } = options;
  return fc.array(dimArb(maxDim, allowZero), { minLength: minRank, maxLength: maxRank });
}

/** A shape that broadcasts to `out`: some leading dimensions dropped, some others set to 1. */
export function broadcastableArb(out: readonly number[]): fc.Arbitrary<number[]> {
  return fc.tuple(fc.integer({ min: 0, max: out.length }), fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }))
    .map(([drop, ones]) => out.map((d, i) => (ones[i] ? 1 : d)).slice(drop));
}

/** The shape of the storage array a layout is taken from. */
export function baseShapeOf(shape: readonly number[], layout: Layout): number[] {
  switch (layout.kind) {
    case "contiguous":
      return [...shape];
    case "permute": {
      const base = new Array<number>(shape.length);
      layout.perm.forEach((p, i) => (base[p] = shape[i]!));
      return base;
    }
    case "slice": {
      const base = [...shape];
      const n = shape[layout.dim]!;
      base[layout.dim] = layout.start + (n > 0 ? (n - 1) * layout.step + 1 : 0) + layout.tail;
      return base;
    }
    case "expand":
      return shape.map((d, i) => (layout.dims.includes(i) ? 1 : d));
  }
}

export function layoutArb(shape: readonly number[]): fc.Arbitrary<Layout> {
  const rank = shape.length;
  const dims = Array.from({ length: rank }, (_, i) => i);
  const options: { weight: number; arbitrary: fc.Arbitrary<Layout> }[] = [
    { weight: 3, arbitrary: fc.constant({ kind: "contiguous" } as const) },
  ];
  if (rank >= 2) {
    options.push({
      weight: 2,
      arbitrary: fc.shuffledSubarray(dims, { minLength: rank, maxLength: rank }).map((perm) => ({ kind: "permute", perm }) as const),
    });
  }
  if (rank >= 1) {
    options.push({
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant("slice" as const),
        dim: fc.integer({ min: 0, max: rank - 1 }),
        start: fc.integer({ min: 0, max: 2 }),
        step: fc.integer({ min: 1, max: 3 }),
        tail: fc.integer({ min: 0, max: 2 }),
        fromEnd: fc.boolean(),
      }),
    });
    options.push({
      weight: 1,
      arbitrary: fc.subarray(dims, { minLength: 1 }).map((d) => ({ kind: "expand", dims: d }) as const),
    });
  }
  return fc.oneof(...options);
}

/** Values of `dtype` in `domain`: a mix of arbitrary doubles and small whole numbers (so ties and exact zeros occur). */
export function valueArb(dtype: DType, domain: Domain = DEFAULT_DOMAIN): fc.Arbitrary<number> {
  if (dtype === "bool") return fc.boolean().map((b) => (b ? 1 : 0));
  const lo = Math.ceil(domain.min), hi = Math.floor(domain.max);
  const whole = fc.integer({ min: lo, max: hi });
  let arb: fc.Arbitrary<number>;
  if (dtype === "int32" || domain.integer) arb = whole;
  else {
    // Random tiny magnitudes would be subnormal in float32, where a device's accuracy is loosest: the finite draws
    // keep clear of them, and `special` adds a few chosen subnormals instead.
    const real = fc.double({ min: domain.min, max: domain.max, noNaN: true, noDefaultInfinity: true })
      .map((v) => (Math.abs(v) < 1e-6 ? 0 : v));
    arb = lo <= hi ? fc.oneof({ weight: 4, arbitrary: real }, { weight: 1, arbitrary: whole }) : real;
    if (domain.halves) {
      const halves = fc.integer({ min: Math.ceil(2 * domain.min), max: Math.floor(2 * domain.max) }).map((k) => k / 2);
      arb = fc.oneof(arb, halves);
    }
  }
  if (domain.avoid === undefined) return arb;
  const avoid = dtype === "int32" || domain.integer ? Math.max(1, Math.ceil(domain.avoid)) : domain.avoid;
  return arb.map((v) => (Math.abs(v) >= avoid ? v : v < 0 || Object.is(v, -0) ? -avoid : avoid));
}

/** One of `SPECIAL_VALUES` of a float dtype. */
export function specialValueArb(dtype: "float32" | "float64"): fc.Arbitrary<number> {
  return fc.constantFrom(...SPECIAL_VALUES[dtype]);
}

/** Values of `dtype` in `domain`; with `domain.special`, a third of the float arrays mix in special values. */
export function valuesArb(dtype: DType, n: number, domain?: Domain): fc.Arbitrary<number[]> {
  domain ??= DEFAULT_DOMAIN;
  const plain = fc.array(valueArb(dtype, domain), { minLength: n, maxLength: n });
  if (!domain.special || (dtype !== "float32" && dtype !== "float64")) return plain;
  // Only some arrays hold special values: one NaN in a row hides how accurately the rest was computed.
  const value = fc.oneof({ weight: 2, arbitrary: valueArb(dtype, domain) }, { weight: 1, arbitrary: specialValueArb(dtype) });
  const mixed = fc.array(value, { minLength: n, maxLength: n });
  return fc.oneof({ weight: 2, arbitrary: plain }, { weight: 1, arbitrary: mixed });
}

/** An input of the given logical shape and dtype, with a random layout and values. */
export function inputArb(shape: readonly number[], dtype: DType, domain?: Domain, layouts = true): fc.Arbitrary<InputSpec> {
  const layout = layouts ? layoutArb(shape) : fc.constant({ kind: "contiguous" } as const);
  return layout.chain((l) =>
    valuesArb(dtype, sizeOfShape(baseShapeOf(shape, l)), domain).map((base) => ({ shape: [...shape], dtype, layout: l, base }))
  );
}

/**
 * An input of a float dtype whose storage is finite (in `domain`) except at up to `count` positions that hold
 * special values: large operands where one NaN or ∞ has to reach exactly the outputs that depend on it.
 */
export function sparseSpecialsArb(
  shape: readonly number[],
  dtype: "float32" | "float64",
  domain: Domain,
  count = 3,
): fc.Arbitrary<InputSpec> {
  return layoutArb(shape).chain((layout) => {
    const n = sizeOfShape(baseShapeOf(shape, layout));
    const positions = n > 0 ? fc.array(fc.tuple(fc.nat(n - 1), specialValueArb(dtype)), { maxLength: count }) : fc.constant([]);
    return fc.tuple(valuesArb(dtype, n, { ...domain, special: false }), positions).map(([base, specials]) => {
      for (const [at, v] of specials) base[at] = v;
      return { shape: [...shape], dtype, layout, base };
    });
  });
}

/** The float64 reference of an input: its logical values, read through the layout. */
export function refOf(spec: InputSpec): Ref {
  const baseShape = baseShapeOf(spec.shape, spec.layout);
  const base = spec.base.map((v) => storeAs(spec.dtype, v));
  const l = spec.layout;
  const data: number[] = [];
  for (let i = 0; i < sizeOfShape(spec.shape); i++) {
    const idx = unravel(i, spec.shape);
    let b: number[];
    switch (l.kind) {
      case "contiguous":
        b = idx;
        break;
      case "permute":
        b = new Array<number>(idx.length);
        l.perm.forEach((p, k) => (b[p] = idx[k]!));
        break;
      case "slice":
        b = [...idx];
        b[l.dim] = l.start + l.step * idx[l.dim]!;
        break;
      case "expand":
        b = idx.map((v, k) => (l.dims.includes(k) ? 0 : v));
        break;
    }
    data.push(base[ravel(b, baseShape)]!);
  }
  return refArray(spec.shape, spec.dtype, data);
}

function typedOf(dtype: DType, values: readonly number[]): TypedArray {
  switch (dtype) {
    case "float32":
      return Float32Array.from(values);
    case "float64":
      return Float64Array.from(values);
    case "int32":
      return Int32Array.from(values);
    case "bool":
      return Uint8Array.from(values, (v) => (v ? 1 : 0));
  }
}

/**
 * Creates the array an input spec describes on `device`. The storage array is disposed once the view is made,
 * so the view alone keeps the storage alive (which exercises reference counting too).
 */
export function materialize(spec: InputSpec, device: string): NDArray {
  const baseShape = baseShapeOf(spec.shape, spec.layout);
  const base = tensor(typedOf(spec.dtype, spec.base), { shape: baseShape, dtype: spec.dtype, device });
  const l = spec.layout;
  let view: NDArray;
  switch (l.kind) {
    case "contiguous":
      return base;
    case "permute":
      view = base.permute(l.perm);
      break;
    case "slice": {
      const n = spec.shape[l.dim]!, size = baseShape[l.dim]!;
      const end = l.start + (n > 0 ? (n - 1) * l.step + 1 : 0);
      // Negative indices count from the end; an end equal to the size has no negative form, so it is omitted.
      view = l.fromEnd
        ? base.slice(l.dim - spec.shape.length, l.start === size ? size : l.start - size, end === size ? undefined : end - size, l.step)
        : base.slice(l.dim, l.start, end, l.step);
      break;
    }
    case "expand":
      view = base.expand(spec.shape);
      break;
  }
  base.dispose();
  return view;
}

/** A short description of an input for error messages: `float32 [2, 3] permute(1, 0)`. */
export function describe(spec: InputSpec): string {
  const l = spec.layout;
  const layout = l.kind === "contiguous"
    ? "contiguous"
    : l.kind === "permute"
    ? `permute(${l.perm.join(", ")})`
    : l.kind === "slice"
    ? `slice(dim ${l.dim}, start ${l.start}${l.fromEnd ? " as a negative index" : ""}, step ${l.step})`
    : `expand(dims ${l.dims.join(", ")})`;
  return `${spec.dtype} [${spec.shape.join(", ")}] ${layout}`;
}

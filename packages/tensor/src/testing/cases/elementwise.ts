/** Conformance of the `unary`, `binary` and `where` kernels through every elementwise operation. */
import fc from "fast-check";
import type { DType } from "../../dtype.ts";
import type { NDArray } from "../../ndarray.ts";
import * as ops from "../../ops/elementwise.ts";
import { expectMatches } from "../compare.ts";
import { type CaseContext, type ConformanceCase, evaluate, propertyCase } from "../context.ts";
import {
  broadcastableArb,
  DEFAULT_DOMAIN,
  describe,
  type Domain,
  inputArb,
  type InputSpec,
  materialize,
  refOf,
  shapeArb,
  specialValueArb,
  valueArb,
} from "../arbitraries.ts";
import {
  BINARY_OPS,
  type Ref,
  type RefBinaryOp,
  refBinary,
  refUnary,
  type RefUnaryOp,
  refWhere,
  SIGNED_ZERO_BINARY,
  SIGNED_ZERO_UNARY,
  UNARY_OPS,
} from "../reference.ts";

// Every domain also draws NaN, ±∞, ±0 and subnormals (`special`), whatever range the finite values keep to.
const UNARY_DOMAIN: Partial<Record<RefUnaryOp, Domain>> = {
  log: { min: 0.05, max: 10, special: true },
  sqrt: { min: 0, max: 10, special: true },
  rsqrt: { min: 0.05, max: 10, special: true },
  log1p: { min: -0.9, max: 10, special: true },
  reciprocal: { min: -10, max: 10, avoid: 0.1, special: true },
  sin: { min: -6, max: 6, special: true },
  cos: { min: -6, max: 6, special: true },
  round: { min: -6, max: 6, halves: true, special: true },
  floor: { min: -6, max: 6, halves: true, special: true },
  ceil: { min: -6, max: 6, halves: true, special: true },
};

function unaryCase(ctx: CaseContext, op: RefUnaryOp): ConformanceCase {
  const dtypes: DType[] = op === "logicalNot" ? ["bool", ...ctx.floatDtypes, "int32"] : [...ctx.floatDtypes, "int32"];
  const domain = UNARY_DOMAIN[op] ?? { min: -10, max: 10, special: true };
  const arb = fc.record({
    dtype: fc.constantFrom(...dtypes),
    shape: shapeArb(),
    alpha: fc.double({ min: 0.1, max: 2, noNaN: true }),
  }).chain(({ dtype, shape, alpha }) => inputArb(shape, dtype, domain).map((x) => ({ x, alpha })));
  return propertyCase(ctx, `unary: ${op}`, arb, async ({ x, alpha }) => {
    const expected = refUnary(op, refOf(x), alpha);
    await evaluate(
      () => {
        const a = materialize(x, ctx.device);
        return [op === "elu" ? ops.elu(a, alpha) : (ops[op] as (a: NDArray) => NDArray)(a)];
      },
      ([out], [values]) =>
        expectMatches(`${op}(${describe(x)})`, out!, values!, expected, ctx.tolerance(expected.dtype, op), SIGNED_ZERO_UNARY.has(op)),
    );
  });
}

/** An operand: an array, or a plain JS number (a "weak" scalar). */
type OperandSpec = { kind: "array"; spec: InputSpec } | { kind: "number"; value: number };

function operandArb(shape: readonly number[], dtype: DType, domain: Domain, allowNumber: boolean): fc.Arbitrary<OperandSpec> {
  const array = broadcastableArb(shape).chain((s) => inputArb(s, dtype, domain)).map((spec) => ({ kind: "array", spec }) as const);
  if (!allowNumber) return array;
  const finite = valueArb(dtype === "bool" ? "int32" : dtype, dtype === "bool" ? { min: 0, max: 1 } : domain);
  const value = domain.special && (dtype === "float32" || dtype === "float64")
    ? fc.oneof({ weight: 3, arbitrary: finite }, { weight: 1, arbitrary: specialValueArb(dtype) })
    : finite;
  const number = value.map((value) => ({ kind: "number", value }) as const);
  return fc.oneof({ weight: 5, arbitrary: array }, { weight: 1, arbitrary: number });
}

function operandRef(o: OperandSpec): Ref | number {
  return o.kind === "array" ? refOf(o.spec) : o.value;
}

function operandArray(o: OperandSpec, device: string): NDArray | number {
  return o.kind === "array" ? materialize(o.spec, device) : o.value;
}

function operandText(o: OperandSpec): string {
  return o.kind === "array" ? describe(o.spec) : `the number ${o.value}`;
}

interface BinarySetup {
  dtypes: DType[];
  a: Domain;
  b: Domain;
}

function binarySetup(ctx: CaseContext, op: RefBinaryOp): BinarySetup {
  const numeric: DType[] = [...ctx.floatDtypes, "int32"];
  switch (op) {
    case "div":
      return { dtypes: numeric, a: { min: -10, max: 10, special: true }, b: { min: -10, max: 10, avoid: 0.1, special: true } };
    case "pow":
      // Integer exponents of negative bases are defined (and common: (a − b)²); fractional ones give NaN.
      return { dtypes: numeric, a: { min: -4, max: 4, special: true }, b: { min: 0, max: 3, integer: true, special: true } };
    case "eq": case "ne": case "lt": case "le": case "gt": case "ge":
      // A narrow range, so equal pairs are frequent.
      return { dtypes: numeric, a: { min: -3, max: 3, special: true }, b: { min: -3, max: 3, special: true } };
    case "logicalAnd": case "logicalOr":
      return { dtypes: ["bool", ...numeric], a: { min: -1, max: 1, special: true }, b: { min: -1, max: 1, special: true } };
    default:
      return { dtypes: numeric, a: { min: -10, max: 10, special: true }, b: { min: -10, max: 10, special: true } };
  }
}

function binaryCase(ctx: CaseContext, op: RefBinaryOp): ConformanceCase {
  const setup = binarySetup(ctx, op);
  const arb = fc.record({ dtype: fc.constantFrom(...setup.dtypes), shape: shapeArb(), swap: fc.boolean() })
    .chain(({ dtype, shape, swap }) =>
      fc.tuple(operandArb(shape, dtype, setup.a, swap), operandArb(shape, dtype, setup.b, !swap))
    );
  return propertyCase(ctx, `binary: ${op} (broadcasting, views, scalars)`, arb, async ([a, b]) => {
    const expected = refBinary(op, operandRef(a), operandRef(b));
    await evaluate(
      () => [(ops[op] as (a: NDArray | number, b: NDArray | number) => NDArray)(operandArray(a, ctx.device), operandArray(b, ctx.device))],
      ([out], [values]) =>
        expectMatches(
          `${op}(${operandText(a)}, ${operandText(b)})`,
          out!,
          values!,
          expected,
          ctx.tolerance(expected.dtype, op),
          SIGNED_ZERO_BINARY.has(op),
        ),
    );
  });
}

/** Fractional exponents of positive bases (the integer-exponent case above also covers negative bases). */
function powFractionalCase(ctx: CaseContext): ConformanceCase {
  const arb = fc.record({ dtype: fc.constantFrom(...ctx.floatDtypes), shape: shapeArb(), swap: fc.boolean() })
    .chain(({ dtype, shape, swap }) =>
      fc.tuple(
        operandArb(shape, dtype, { min: 0.1, max: 4, special: true }, swap),
        operandArb(shape, dtype, { min: -3, max: 3, special: true }, !swap),
      )
    );
  return propertyCase(ctx, "binary: pow (fractional exponents)", arb, async ([a, b]) => {
    const expected = refBinary("pow", operandRef(a), operandRef(b));
    await evaluate(
      () => [ops.pow(operandArray(a, ctx.device), operandArray(b, ctx.device))],
      ([out], [values]) =>
        expectMatches(`pow(${operandText(a)}, ${operandText(b)})`, out!, values!, expected, ctx.tolerance(expected.dtype, "pow")),
    );
  });
}

/** Operands of different dtypes (0-d arrays and JS numbers included) promote as PyTorch's result_type says. */
function promotionCase(ctx: CaseContext): ConformanceCase {
  const dtypes: DType[] = ["bool", "int32", ...ctx.floatDtypes];
  const opArb = fc.constantFrom<RefBinaryOp>("add", "mul", "sub", "div", "maximum", "lt", "eq");
  const domain = { min: -5, max: 5, avoid: 0.5, special: true };
  const arb = fc.record({ op: opArb, da: fc.constantFrom(...dtypes), db: fc.constantFrom(...dtypes), shape: shapeArb({ maxRank: 3 }) })
    .filter(({ op, da, db }) => !(op === "sub" && da === "bool" && db === "bool"))
    .chain(({ op, da, db, shape }) =>
      fc.tuple(fc.constant(op), operandArb(shape, da, domain, false), operandArb(shape, db, domain, true))
    );
  return propertyCase(ctx, "binary: dtype promotion (mixed dtypes, 0-d arrays, JS numbers)", arb, async ([op, a, b]) => {
    const expected = refBinary(op, operandRef(a), operandRef(b));
    await evaluate(
      () => [(ops[op] as (a: NDArray | number, b: NDArray | number) => NDArray)(operandArray(a, ctx.device), operandArray(b, ctx.device))],
      ([out], [values]) =>
        expectMatches(`${op}(${operandText(a)}, ${operandText(b)})`, out!, values!, expected, ctx.tolerance(expected.dtype, op)),
    );
  });
}

function whereCase(ctx: CaseContext): ConformanceCase {
  const dtypes: DType[] = [...ctx.floatDtypes, "int32", "bool"];
  const arb = fc.record({ shape: shapeArb(), da: fc.constantFrom(...dtypes), db: fc.constantFrom(...dtypes) })
    .chain(({ shape, da, db }) =>
      fc.tuple(
        broadcastableArb(shape).chain((s) => inputArb(s, "bool")),
        operandArb(shape, da, DEFAULT_DOMAIN, true),
        operandArb(shape, db, DEFAULT_DOMAIN, true),
      )
    );
  return propertyCase(ctx, "where: condition, values and broadcasting", arb, async ([cond, a, b]) => {
    const expected = refWhere(refOf(cond), operandRef(a), operandRef(b));
    await evaluate(
      () => [ops.where(materialize(cond, ctx.device), operandArray(a, ctx.device), operandArray(b, ctx.device))],
      ([out], [values]) =>
        expectMatches(
          `where(${describe(cond)}, ${operandText(a)}, ${operandText(b)})`,
          out!,
          values!,
          expected,
          ctx.tolerance(expected.dtype, "where"),
          true,
        ),
    );
  });
}

function clampCase(ctx: CaseContext): ConformanceCase {
  const bound = fc.option(fc.integer({ min: -8, max: 8 }).map((v) => v / 2), { nil: undefined });
  const arb = fc.record({ dtype: fc.constantFrom<DType>(...ctx.floatDtypes, "int32"), shape: shapeArb(), lo: bound, hi: bound })
    .filter(({ lo, hi }) => (lo !== undefined || hi !== undefined) && (lo === undefined || hi === undefined || lo <= hi))
    .chain(({ dtype, shape, lo, hi }) => inputArb(shape, dtype).map((x) => ({ x, lo, hi })));
  return propertyCase(ctx, "clamp: lower and/or upper bound", arb, async ({ x, lo, hi }) => {
    let expected = refOf(x);
    if (lo !== undefined) expected = refBinary("maximum", expected, lo);
    if (hi !== undefined) expected = refBinary("minimum", expected, hi);
    await evaluate(
      () => [ops.clamp(materialize(x, ctx.device), lo, hi)],
      ([out], [values]) =>
        expectMatches(`clamp(${describe(x)}, ${lo}, ${hi})`, out!, values!, expected, ctx.tolerance(expected.dtype, "clamp")),
    );
  });
}

export function elementwiseCases(ctx: CaseContext): ConformanceCase[] {
  return [
    ...UNARY_OPS.map((op) => unaryCase(ctx, op)),
    ...BINARY_OPS.map((op) => binaryCase(ctx, op)),
    powFractionalCase(ctx),
    promotionCase(ctx),
    whereCase(ctx),
    clampCase(ctx),
  ];
}

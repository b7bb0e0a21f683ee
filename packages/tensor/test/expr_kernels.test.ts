import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { binaryOp, E, evaluate, type Expr, tensor, unaryOp } from "../src/mod.ts";
import { binaryRowLoop, type FunctionMaker, unaryRowLoop } from "../src/expr/row_loop.ts";
import { SPECIAL_VALUES } from "../src/testing/arbitraries.ts";

const x0 = E.input(0), x1 = E.input(1);

/** Random expressions over `leaves`, from every primitive of the IR. */
const exprArb = (leaves: readonly Expr[]): fc.Arbitrary<Expr> => fc.letrec<{ e: Expr }>((tie) => ({
  e: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom(...leaves),
    fc.constantFrom(-0, 0, 0.5, -2, NaN, Infinity, -Infinity).map((v) => E.constant(v)),
    fc.tuple(
      fc.constantFrom("neg", "abs", "sqrt", "floor", "ceil", "round", "exp", "log", "log1p", "expm1", "sin", "cos", "tanh", "isnan", "nonzero"),
      tie("e"),
    ).map(([op, x]) => E[op as "neg"](x)),
    fc.tuple(
      fc.constantFrom("add", "sub", "mul", "div", "pow", "max", "min", "eq", "ne", "lt", "le", "gt", "ge", "and", "or"),
      tie("e"),
      tie("e"),
    ).map(([op, a, b]) => E[op as "add"](a, b)),
    fc.tuple(tie("e"), tie("e"), tie("e")).map(([c, a, b]) => E.select(c, a, b)),
  ),
})).e;

const valueArb = fc.oneof(fc.double({ min: -20, max: 20, noNaN: true }), fc.constantFrom(...SPECIAL_VALUES.float64));

/** Equal as float64, NaN matching NaN and −0 distinct from +0. */
const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

/** What a Content-Security-Policy without 'unsafe-eval' does to `new Function`. */
const noCodegen: FunctionMaker = () => {
  throw new EvalError("Code generation from strings disallowed for this context");
};

describe("row loops generated from expressions (the CPU's float64, int32 and bool kernels)", () => {
  for (const [label, make] of [["new Function", undefined], ["closures, where new Function throws", noCodegen]] as const) {
    test(`${label}: equal to the float64 evaluation bit for bit, over strided rows`, () => {
      // Binary loops read two inputs; unary loops one input and the op's parameter.
      const exprs = fc.tuple(exprArb([x0, x1]), exprArb([x0, E.param(0)]));
      fc.assert(
        fc.property(exprs, fc.array(valueArb, { minLength: 6, maxLength: 6 }), fc.array(valueArb, { minLength: 3, maxLength: 3 }), ([e, u], xs, ys) => {
          const a = Float64Array.from(xs), b = Float64Array.from(ys);
          // Three elements: a at stride 2 from offset 1, b at stride 1.
          const out = new Float64Array(3), outU = new Float64Array(3);
          binaryRowLoop(e, make)(a, 1, 2, b, 0, 1, out, 0, 3);
          unaryRowLoop(u, make)(a, 1, 2, outU, 0, 3, 0.75);
          for (let k = 0; k < 3; k++) {
            expect(same(out[k]!, evaluate(e, [a[1 + 2 * k]!, b[k]!]))).toBe(true);
            expect(same(outU[k]!, evaluate(u, [a[1 + 2 * k]!], [0.75]))).toBe(true);
          }
        }),
        { numRuns: 300 },
      );
    });
  }

  test("the loop stores into the output's type: bool and int32 outputs round as their typed arrays do", () => {
    const out = new Uint8Array(3), ints = new Int32Array(3);
    binaryRowLoop(E.lt(x0, x1))(Float64Array.of(1, 5, NaN), 0, 1, Float64Array.of(2), 0, 0, out, 0, 3);
    expect(Array.from(out)).toEqual([1, 0, 0]);
    unaryRowLoop(E.neg(x0))(Int32Array.of(3, -4, 0), 0, 1, ints, 0, 3, 1);
    expect(Array.from(ints)).toEqual([-3, 4, 0]);
  });
});

/** float32 values over a wide range mixed with NaN, ±∞, ±0 and subnormals; 1,000 of them, so they live in kernel memory. */
const f32ArrayArb = (min: number, max: number, integer = false) =>
  fc.array(
    fc.oneof(
      { weight: 8, arbitrary: fc.double({ min, max, noNaN: true }).map((v) => (integer ? Math.round(v) : Math.fround(v))) },
      { weight: 1, arbitrary: fc.constantFrom(...SPECIAL_VALUES.float32) },
    ),
    { minLength: 1000, maxLength: 1000 },
  );

/** got within atol + rtol·|want| of want, where want is the float64 reference rounded to float32; specials exact. */
function within(op: string, inputs: string, got: number, want: number, atol: number, rtol: number): void {
  const w = Math.fround(want);
  const ok = Number.isNaN(w) ? Number.isNaN(got) : !Number.isFinite(w) ? got === w : Math.abs(got - w) <= atol + rtol * Math.abs(w);
  if (!ok) throw new Error(`${op}(${inputs}) = ${got}, float64 reference ${want}`);
}

describe("float32 sin, cos and pow in WebAssembly against the float64 reference (the README's tolerances)", () => {
  for (const op of ["sin", "cos"] as const) {
    test(`${op}: within 2e-7 + 2e-7·|ref| for |x| ≤ 1e4, sign of zero kept`, () => {
      fc.assert(
        fc.property(f32ArrayArb(-1e4, 1e4), (xs) => {
          const x = tensor(xs, { dtype: "float32" });
          const x32 = x.dataSync(), got = unaryOp(op, x).dataSync();
          x32.forEach((v, i) => within(op, String(v), got[i]!, Math[op](v), 2e-7, 2e-7));
          if (op === "sin") x32.forEach((v, i) => v === 0 && expect(Object.is(got[i], v)).toBe(true));
        }),
        { numRuns: 20 },
      );
    });
  }

  test("pow: relative error under 1.2e-5 where the result is at least 2.5e-38; C's special cases exact", () => {
    const cases = fc.oneof(
      fc.tuple(f32ArrayArb(0, 10), f32ArrayArb(-30, 30)),
      // Negative bases with integer exponents (odd and even), and fractional exponents (NaN).
      fc.tuple(f32ArrayArb(-8, 8), f32ArrayArb(-12, 12, true)),
      fc.tuple(f32ArrayArb(-8, 8), f32ArrayArb(-3, 3)),
    );
    fc.assert(
      fc.property(cases, ([as, bs]) => {
        const a = tensor(as, { dtype: "float32" }), b = tensor(bs, { dtype: "float32" });
        const a32 = a.dataSync(), b32 = b.dataSync(), got = binaryOp("pow", a, b).dataSync();
        a32.forEach((x, i) => {
          const y = b32[i]!, want = evaluate(E.pow(x0, x1), [x, y]);
          const text = `${x}, ${y}`;
          if (want === 0 || (Math.abs(want) < 2.5e-38 && Number.isFinite(want))) {
            // Underflow flushes to a zero of the right sign (exp does the same below e^-86.6).
            if (!(Math.abs(got[i]!) < 2.5e-38)) throw new Error(`pow(${text}) = ${got[i]}, float64 reference ${want}`);
            if (Object.is(Math.fround(want), -0) !== Object.is(got[i], -0) && want === 0) throw new Error(`pow(${text}): sign of zero`);
          } else {
            within("pow", text, got[i]!, want, 0, 1.2e-5);
          }
        });
      }),
      { numRuns: 20 },
    );
  });
});

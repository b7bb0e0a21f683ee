import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { arity, BINARY_OP_NAMES, binaryDef, evaluate, type ParamUnaryOp, UNARY_OP_NAMES, unaryDef } from "../src/mod.ts";

// Each op's expression (what the kernels compile) against its directly written float64 definition.
const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 0.5, -0.5, 2.5, 1e-310, -1e-310, 700, -700, 3];

/** Equal as float64 up to a few ulps (the composite sigmoid rounds differently), NaN matching NaN. */
function close(got: number, want: number): boolean {
  if (Number.isNaN(want)) return Number.isNaN(got);
  if (!Number.isFinite(want)) return got === want;
  return Math.abs(got - want) <= 4 * Number.EPSILON * Math.abs(want) + 1e-300;
}

describe("op table: expression = float64 definition", () => {
  for (const op of UNARY_OP_NAMES) {
    test(`unary ${op}`, () => {
      const def = unaryDef(op);
      for (const v of SPECIAL) expect(close(evaluate(def.expr, [v], [1.5]), def.f64(v, 1.5))).toBe(true);
      fc.assert(fc.property(fc.double({ min: -50, max: 50, noNaN: true }), (v) => close(evaluate(def.expr, [v], [0.7]), def.f64(v, 0.7))));
    });
  }
  for (const op of BINARY_OP_NAMES) {
    test(`binary ${op}`, () => {
      const def = binaryDef(op);
      for (const x of SPECIAL) for (const y of SPECIAL) expect(close(evaluate(def.expr, [x, y]), def.f64(x, y))).toBe(true);
      fc.assert(fc.property(fc.double({ min: -50, max: 50, noNaN: true }), fc.double({ min: -50, max: 50, noNaN: true }), (x, y) => close(evaluate(def.expr, [x, y]), def.f64(x, y))));
    });
  }
});

describe("op table: the facades derive from it", () => {
  test("every op has a named export and an NDArray method; ops reading a parameter are exactly ParamUnaryOp", async () => {
    const mod = await import("../src/mod.ts");
    for (const op of [...UNARY_OP_NAMES, ...BINARY_OP_NAMES]) {
      expect(typeof (mod as unknown as Record<string, unknown>)[op], op).toBe("function");
      expect(typeof (mod.NDArray.prototype as unknown as Record<string, unknown>)[op], op).toBe("function");
    }
    const withParam: ParamUnaryOp[] = ["elu"];
    expect(UNARY_OP_NAMES.filter((op) => arity([unaryDef(op).expr]).params > 0)).toEqual(withParam);
  });
});

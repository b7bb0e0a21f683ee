import fc from "fast-check";
import { describe, expect, test } from "vitest";
import * as T from "@backprop/tensor";
import * as ag from "../src/mod.ts";
import type { Tensor } from "../src/mod.ts";
import {
  awayFromZero,
  broadcastShapesArb,
  check,
  highLattice,
  inputArb,
  layoutArb,
  leaf,
  lowLattice,
  positive,
  shapeArb,
  sizeOf,
  smooth,
  toLeaf,
  valuesArb,
} from "./helpers.ts";

const RUNS = { numRuns: 15 };
const double = (min: number, max: number) => fc.double({ min, max, noNaN: true, noDefaultInfinity: true });

describe("unary ops: gradcheck on random shapes, values and layouts", () => {
  // Where an op is gradchecked: smooth ops (the default) anywhere, the others away from their kinks and poles. Every
  // op of the table with a gradient is checked, through its named function, so a new op needs an entry here only
  // when it is not smooth on [−3, 3].
  const DOMAINS: Partial<Record<T.UnaryOp, fc.Arbitrary<number>>> = {
    // log, sqrt, rsqrt and reciprocal need x > 0; 0.2 keeps their slopes (≤ 1/x²) moderate.
    log: positive,
    sqrt: positive,
    rsqrt: positive,
    reciprocal: positive,
    log1p: double(-0.8, 2),
    // Kinked at 0: values are ±(0.1 + u), so x ± eps never crosses the kink.
    relu: awayFromZero,
    abs: awayFromZero,
    sign: awayFromZero,
    elu: awayFromZero,
    // Steps at the integers (floor, ceil) or half-integers (round): values are k + [0.1, 0.9] or k ± 0.4, so the
    // finite difference sees a flat function and the zero gradient is exact.
    floor: fc.tuple(fc.integer({ min: -3, max: 3 }), double(0.1, 0.9)).map(([k, u]) => k + u),
    ceil: fc.tuple(fc.integer({ min: -3, max: 3 }), double(0.1, 0.9)).map(([k, u]) => k + u),
    round: fc.tuple(fc.integer({ min: -3, max: 3 }), double(-0.4, 0.4)).map(([k, u]) => k + u),
  };
  for (const name of T.UNARY_OP_NAMES.filter((op) => !T.unaryDef(op).bool)) {
    const op = (ag as unknown as Record<T.UnaryOp, (x: Tensor) => Tensor>)[name];
    test(name, () => {
      fc.assert(fc.property(inputArb(shapeArb(0, 3, 3), DOMAINS[name] ?? smooth), (spec) => check(op, [toLeaf(spec)])), RUNS);
    });
  }

  test("elu with a random alpha", () => {
    fc.assert(
      fc.property(inputArb(shapeArb(1, 2, 3), awayFromZero), double(0.3, 2), (spec, alpha) => {
        check((x) => x.elu(alpha), [toLeaf(spec)]);
      }),
      RUNS,
    );
  });

  test("the Tensor methods route to the same ops", () => {
    const x = leaf([0.3, -0.7, 1.2, -1.5], [2, 2]);
    check((x) => x.abs().add(x.relu()).mul(x.tanh()).sub(x.sigmoid().exp()).div(x.square().add(1).sqrt()), [x]);
  });
});

describe("binary ops with broadcasting", () => {
  const cases: [string, (a: Tensor, b: Tensor) => Tensor, fc.Arbitrary<number>, fc.Arbitrary<number>][] = [
    ["add", ag.add, smooth, smooth],
    ["sub", ag.sub, smooth, smooth],
    ["mul", ag.mul, smooth, smooth],
    // The divisor stays ≥ 0.1 away from 0.
    ["div", ag.div, smooth, awayFromZero],
    // A positive base keeps a ** b real for any exponent, and log a (the exponent's gradient) finite.
    ["pow", ag.pow, positive, smooth],
    // a and b come from interleaved lattices (|a − b| ≥ 0.05), so neither argument overtakes the other under ±eps.
    ["maximum", ag.maximum, lowLattice, highLattice],
    ["minimum", ag.minimum, lowLattice, highLattice],
  ];
  for (const [name, op, ea, eb] of cases) {
    test(`${name}: tensor ⊙ tensor`, () => {
      const arb = broadcastShapesArb().chain(([sa, sb]) =>
        fc.tuple(inputArb(fc.constant(sa), ea), inputArb(fc.constant(sb), eb), fc.boolean(), fc.boolean())
      );
      fc.assert(
        fc.property(arb, ([a, b, gradA, gradB]) => {
          // At least one operand requires a gradient; the other sometimes does not (its gradient is skipped).
          check(op, [toLeaf(a, gradA || !gradB), toLeaf(b, gradB)]);
        }),
        RUNS,
      );
    });
  }

  const scalarCases: [string, (a: Tensor | number, b: Tensor | number) => Tensor, fc.Arbitrary<number>, fc.Arbitrary<number>][] = [
    ["add", ag.add, smooth, smooth],
    ["sub", ag.sub, smooth, smooth],
    ["mul", ag.mul, smooth, smooth],
    ["div", ag.div, awayFromZero, awayFromZero],
    // The base (the tensor, or the number when it comes first) is positive; see the pow(number, tensor) test.
    ["pow", ag.pow, positive, positive],
    ["maximum", ag.maximum, lowLattice, highLattice],
    ["minimum", ag.minimum, lowLattice, highLattice],
  ];
  for (const [name, op, ex, ec] of scalarCases) {
    test(`${name}: JS number on either side`, () => {
      fc.assert(
        fc.property(inputArb(shapeArb(0, 3, 3), ex), ec, fc.boolean(), (spec, c, numberFirst) => {
          check((x) => (numberFirst ? op(c, x) : op(x, c)), [toLeaf(spec)]);
        }),
        RUNS,
      );
    });
  }

  test("pow(number, tensor): the exponent's gradient is out · log(base)", () => {
    fc.assert(
      fc.property(inputArb(shapeArb(0, 2, 3), smooth), positive, (spec, base) => check((x) => ag.pow(base, x), [toLeaf(spec)])),
      RUNS,
    );
  });

  test("pow(tensor, number) with any real exponent", () => {
    fc.assert(
      fc.property(inputArb(shapeArb(0, 2, 3), positive), double(-2, 3), (spec, e) => check((x) => x.pow(e), [toLeaf(spec)])),
      RUNS,
    );
  });

  test("pow is flat, not NaN, where 0 · ∞ would appear: exponent 0, and base 0 with exponent ≥ 0", () => {
    const x = leaf([0, 2, 0], [3]);
    const e = leaf([0, 0, 2], [3]);
    ag.pow(x, e).sum().backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([0, 0, 0]);
    expect(Array.from(e.grad!.dataSync())).toEqual([0, Math.log(2), 0]);
    const y = leaf([0, 1.5], [2]);
    ag.pow(0, y).sum().backward();
    expect(Array.from(y.grad!.dataSync())).toEqual([0, 0]);
    const z = leaf([0, 3], [2]);
    ag.pow(z, 0).sum().backward();
    expect(Array.from(z.grad!.dataSync())).toEqual([0, 0]);
  });

  test("needs at least one tensor operand", () => {
    expect(() => ag.add(1 as never, 2 as never)).toThrow(/at least one tensor/);
  });

  test("maximum/minimum split the gradient equally where the arguments tie (as PyTorch)", () => {
    const a = leaf([1, 2, 3], [3]);
    const b = leaf([1, 5, 0], [3]);
    ag.maximum(a, b).sum().backward();
    expect(Array.from(a.grad!.dataSync())).toEqual([0.5, 0, 1]);
    expect(Array.from(b.grad!.dataSync())).toEqual([0.5, 1, 0]);
  });
});

describe("clamp", () => {
  // Values lie on the low lattice and bounds on the high one, so |x − bound| ≥ 0.05 ≫ eps: no value sits on a
  // bound, where the one-sided slopes differ.
  test("with min, max or both", () => {
    fc.assert(
      fc.property(
        inputArb(shapeArb(0, 3, 3), lowLattice),
        highLattice,
        highLattice,
        (spec, p, q) => {
          const [lo, hi] = p < q ? [p, q] : [q, p];
          check((x) => ag.clamp(x, lo), [toLeaf(spec)]);
          check((x) => ag.clamp(x, undefined, hi), [toLeaf(spec)]);
          check((x) => x.clamp(lo, hi), [toLeaf(spec)]);
        },
      ),
      RUNS,
    );
  });

  test("the gradient passes on the boundary itself (as PyTorch)", () => {
    const x = leaf([-1, 0, 0.5, 1, 2], [5]);
    ag.clamp(x, 0, 1).sum().backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([0, 1, 1, 1, 0]);
  });
});

describe("where", () => {
  test("tensor and number branches, broadcast condition, NDArray or Tensor condition", () => {
    const arb = broadcastShapesArb().chain(([sa, sb]) =>
      fc.tuple(
        inputArb(fc.constant(sa)),
        inputArb(fc.constant(sb)),
        // The condition broadcasts with both branches: take the shape of the larger-rank branch, some dims 1.
        fc.array(fc.boolean(), { minLength: 27, maxLength: 27 }),
        fc.constantFrom("tensors", "number-a", "number-b"),
        fc.boolean(),
        smooth,
      )
    );
    fc.assert(
      fc.property(arb, ([a, b, bits, kind, asTensor, c]) => {
        const shape = a.shape.length >= b.shape.length ? a.shape : b.shape;
        const cond = T.tensor(bits.slice(0, sizeOf(shape)), { shape, dtype: "bool" });
        const condition = asTensor ? ag.tensor(cond) : cond;
        if (kind === "tensors") check((x, y) => ag.where(condition, x, y), [toLeaf(a), toLeaf(b)]);
        else if (kind === "number-a") check((y) => ag.where(condition, c, y), [toLeaf(b)]);
        else check((x) => ag.where(condition, x, c), [toLeaf(a)]);
      }),
      RUNS,
    );
  });
});

describe("comparisons", () => {
  test("give bool tensors without a graph", () => {
    fc.assert(
      fc.property(inputArb(shapeArb(0, 2, 3)), layoutArb, valuesArb(1), (spec, _layout, [c]) => {
        const x = toLeaf(spec);
        for (const op of [ag.eq, ag.ne, ag.lt, ag.le, ag.gt, ag.ge]) {
          const out = op(x, c!);
          expect(out.dtype).toBe("bool");
          expect(out.requiresGrad).toBe(false);
          expect(out.gradFn).toBeNull();
        }
      }),
      { numRuns: 5 },
    );
  });
});

describe("facades derive from the op table", () => {
  test("every table op has a named function, a Tensor method and a backward entry; bool ops carry no gradient", () => {
    const names = [...T.UNARY_OP_NAMES, ...T.BINARY_OP_NAMES];
    for (const op of names) {
      expect(typeof (ag as unknown as Record<string, unknown>)[op], op).toBe("function");
      expect(typeof (ag.Tensor.prototype as unknown as Record<string, unknown>)[op], op).toBe("function");
    }
    const x = leaf([0, 1, -2], [3]);
    for (const op of T.BINARY_OP_NAMES.filter((o) => T.binaryDef(o).bool)) {
      const out = ag.binaryOp(op, x, 1);
      expect(out.dtype, op).toBe("bool");
      expect(out.requiresGrad, op).toBe(false);
    }
    expect(ag.logicalNot(x).requiresGrad).toBe(false);
    expect(Array.from(ag.logicalOr(0, x).dataSync())).toEqual([0, 1, 1]);
  });
});

test("softplus and its gradient equal PyTorch's (torch 1.13, float64) on both sides of the threshold 20", () => {
  const x = leaf([-30, -1, 0, 19.9, 20, 20.5, 1e-3], [7]);
  const y = ag.softplus(x);
  y.sum().backward();
  const want = [9.357622968839737e-14, 0.31326168751822286, 0.6931471805599453, 19.900000002277924, 20.000000002061153, 20.5, 0.6936473055599401];
  const wantGrad = [9.3576229688393e-14, 0.2689414213699951, 0.5, 0.9999999977220729, 0.9999999979388464, 1, 0.5002499999791666];
  Array.from(y.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 14));
  Array.from(x.grad!.dataSync()).forEach((v, i) => expect(Math.abs(v - wantGrad[i]!)).toBeLessThan(1e-15 + 1e-14 * wantGrad[i]!));
});

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import * as T from "@backprop/tensor";
import { Function, type FunctionCtx, GradcheckError, gradcheck, relError, type Tensor, tensor } from "../src/mod.ts";
import { leaf } from "./helpers.ts";

/** a · b with a backward that scales b's gradient by `factor` (1 is correct). */
function scaledMul(factor: number) {
  return class ScaledMul extends Function {
    static override forward(ctx: FunctionCtx, a: Tensor, b: Tensor): Tensor {
      ctx.saveForBackward(a, b);
      return a.mul(b);
    }
    static override backward(ctx: FunctionCtx, g: Tensor): Tensor[] {
      const [a, b] = ctx.savedTensors as Tensor[];
      return [g.mul(b!), g.mul(a!).mul(factor)];
    }
  };
}

describe("gradcheck", () => {
  test("passes a correct backward and reports the errors it saw", () => {
    const Mul = scaledMul(1);
    const result = gradcheck((a, b) => Mul.apply(a, b), [leaf([1, 2, 3], [3]), leaf([0.5, -1, 2], [3])]);
    expect(result.pass).toBe(true);
    expect(result.inputs.map((c) => c.input)).toEqual([0, 1]);
    expect(result.maxRelError).toBeLessThan(1e-8);
  });

  test("catches a backward that is off by a factor and names input, index and both values", () => {
    const Wrong = scaledMul(2);
    const a = leaf([1, 2, 3], [3]), b = leaf([0.5, -1, 2], [3]);
    let error: unknown;
    try {
      gradcheck((a, b) => Wrong.apply(a, b), [a, b]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GradcheckError);
    const { result, message } = error as GradcheckError;
    expect(result.pass).toBe(false);
    const [first, second] = result.inputs;
    expect(first!.pass).toBe(true);
    expect(second!.pass).toBe(false);
    // b's gradient is g·a; doubled, the worst element is the one with the largest |g·a|.
    expect(second!.analytical).toBeCloseTo(2 * second!.numerical, 6);
    expect(second!.relError).toBeCloseTo(1 / 3, 6);
    expect(message).toContain(`input 1 [3] is wrong at flat index ${second!.worstIndex}`);
    expect(message).toContain(`analytical ${second!.analytical}`);
    expect(message).toContain(`numerical ${second!.numerical}`);
  });

  test("points at the one wrong element", () => {
    class OffAtTwo extends Function {
      static override forward(_ctx: FunctionCtx, x: Tensor): Tensor {
        return x.mul(3);
      }
      static override backward(_ctx: FunctionCtx, g: Tensor): Tensor {
        const delta = tensor([0, 0, 0.5, 0], { dtype: "float64" }).reshape(g.shape);
        return g.mul(3).add(delta);
      }
    }
    const result = gradcheck((x) => OffAtTwo.apply(x), [leaf([1, 2, 3, 4], [2, 2])], { raiseException: false });
    expect(result.pass).toBe(false);
    expect(result.inputs[0]!.worstIndex).toBe(2);
    expect(result.inputs[0]!.analytical - result.inputs[0]!.numerical).toBeCloseTo(0.5, 6);
  });

  test("only inputs that require a gradient are checked, and they must be float64 on the CPU", () => {
    const a = leaf([1, 2], [2]);
    const c = leaf([3, 4], [2], "contiguous", false);
    expect(gradcheck((a, c) => a.mul(c), [a, c]).inputs.map((r) => r.input)).toEqual([0]);
    expect(() => gradcheck((c) => c.exp(), [c])).toThrow(/no input requires a gradient/);
    const f32 = tensor([1, 2], { dtype: "float32", requiresGrad: true });
    expect(() => gradcheck((x) => x.exp(), [f32])).toThrow(T.DTypeError);
    expect(() => gradcheck((x) => x.exp(), [f32])).toThrow(/input 0 must be float64 on the CPU, got float32/);
  });

  test("an output without a graph has a zero analytical gradient, which the finite differences must match", () => {
    const x = leaf([0.5, -1.5], [2]);
    expect(gradcheck((x) => x.gt(0).cast("float64"), [x]).pass).toBe(true);
    const constant = tensor([1, 2], { dtype: "float64" });
    const result = gradcheck((x) => x.detach().mul(constant), [x], { raiseException: false });
    expect(result.pass).toBe(false);
    expect(result.inputs[0]!.analytical).toBe(0);
  });

  test("leaves the inputs' values and gradients as it found them", () => {
    const x = leaf([1, 2], [2]);
    x.mul(5).sum().backward();
    const grad = x.grad;
    const value = x.value;
    gradcheck((x) => x.square(), [x]);
    expect(x.grad).toBe(grad);
    expect(x.value).toBe(value);
    expect(Array.from(x.grad!.dataSync())).toEqual([5, 5]);
  });
});

describe("relError", () => {
  test("is max |a − b| / max(1e-8, |a| + |b|)", () => {
    const element = fc.double({ min: -1e3, max: 1e3, noNaN: true });
    fc.assert(
      fc.property(fc.array(fc.tuple(element, element), { minLength: 1, maxLength: 20 }), (pairs) => {
        const a = pairs.map((p) => p[0]), b = pairs.map((p) => p[1]);
        const expected = Math.max(...pairs.map(([x, y]) => Math.abs(x - y) / Math.max(1e-8, Math.abs(x) + Math.abs(y))));
        expect(relError(a, b)).toBe(expected);
        expect(relError(Float64Array.from(a), Float32Array.from(a))).toBeLessThan(1e-7);
      }),
    );
  });

  test("known values, the 1e-8 floor, and errors", () => {
    expect(relError([1, 2], [1, 2])).toBe(0);
    expect(relError([1], [3])).toBe(0.5);
    expect(relError([0], [0])).toBe(0);
    expect(relError([1e-9], [0])).toBeCloseTo(0.1, 12);
    expect(relError([1, -1], [-1, 1])).toBe(1);
    expect(relError([Number.NaN], [1])).toBeNaN();
    expect(() => relError([1, 2], [1])).toThrow(T.ShapeError);
  });

  test("a floor in place of 1e-8: elements below it are compared in absolute terms", () => {
    // An element that cancels to 3e-6, with 1e-10 of finite-difference noise, next to one of size 1.
    const a = [1, -3.1e-6], b = [1 + 1e-11, -3.1e-6 + 1e-10];
    const error = Math.abs(a[1]! - b[1]!);
    expect(relError(a, b)).toBe(error / (Math.abs(a[1]!) + Math.abs(b[1]!))); // ≈ 1.6e-5: noise over a tiny element
    expect(relError(a, b, 1e-4)).toBe(error / 1e-4); // ≈ 1e-6
    // Above the floor nothing changes: a real error on the small element still shows.
    expect(relError([1, -3.1e-6], [1, -3.1e-6 * 1.01], 1e-6)).toBeCloseTo(0.01 / 2.01, 12);
    expect(relError([1e-9], [0], 1e-8)).toBe(relError([1e-9], [0]));
    for (const bad of [0, -1, Number.NaN]) expect(() => relError([1], [1], bad)).toThrow(T.ValueError);
  });
});

describe("gradcheck's per-input gradients", () => {
  test("the whole analytical and numerical gradients, equal to the backward pass and to central differences", () => {
    const a = leaf([1, 2, 3], [3]), b = leaf([0.5, -1, 2], [3]);
    const result = gradcheck((a, b) => a.mul(b).sum(), [a, b]);
    const [ca, cb] = result.inputs;
    // d(Σ a·b)/da = b, d/db = a; projected by one random r (a scalar output here).
    const r = ca!.analyticalGradient[0]! / 0.5;
    expect(Array.from(ca!.analyticalGradient).map((v) => v / r)).toEqual([0.5, -1, 2]);
    expect(Array.from(cb!.analyticalGradient).map((v) => v / r)).toEqual([1, 2, 3]);
    ca!.numericalGradient.forEach((v, i) => expect(v).toBeCloseTo(ca!.analyticalGradient[i]!, 8));
    expect(relError(ca!.analyticalGradient, ca!.numericalGradient)).toBe(ca!.relError);
    // Kept after the inputs' gradients are gone.
    expect(a.grad).toBeNull();
    expect(Array.from(cb!.analyticalGradient).map((v) => v / r)).toEqual([1, 2, 3]);
  });
});

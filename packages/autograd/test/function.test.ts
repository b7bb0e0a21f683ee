import fc from "fast-check";
import { describe, expect, test } from "vitest";
import * as T from "@backprop/tensor";
import { concat, Function, type FunctionCtx, GraphError, noGrad, Tensor, tensor, UNARY_BACKWARD } from "../src/mod.ts";
import { awayFromZero, check, inputArb, leaf, shapeArb, toLeaf } from "./helpers.ts";

const values = (t: Tensor | null): number[] => Array.from(t!.dataSync());

/** The README's example: ReLU with a hand-written backward. */
class MyReLU extends Function {
  static override forward(ctx: FunctionCtx, x: Tensor): Tensor {
    ctx.saveForBackward(x);
    return x.relu();
  }
  static override backward(ctx: FunctionCtx, grad: Tensor): [Tensor] {
    const [x] = ctx.savedTensors;
    return [grad.mul(x!.gt(0).cast(grad.dtype))];
  }
}

/** Two outputs from one input. */
class SinCos extends Function {
  static override forward(ctx: FunctionCtx, x: Tensor): Tensor[] {
    ctx.saveForBackward(x);
    return [x.sin(), x.cos()];
  }
  static override backward(ctx: FunctionCtx, gradSin: Tensor, gradCos: Tensor): Tensor {
    const [x] = ctx.savedTensors;
    return gradSin.mul(x!.cos()).sub(gradCos.mul(x!.sin()));
  }
}

/** y = x · k for a JS number k, which gets a null gradient. */
class Scale extends Function {
  static override forward(ctx: FunctionCtx, x: Tensor, k: number): Tensor {
    ctx.k = k;
    ctx.seen = ctx.needsInputGrad;
    return x.mul(k);
  }
  static override backward(ctx: FunctionCtx, grad: Tensor): [Tensor | null, null] {
    return [ctx.needsInputGrad[0] ? grad.mul(ctx.k as number) : null, null];
  }
}

/**
 * Batch normalisation over the batch dimension of [N, C], written as one Function: the backward is the
 * closed form dx = γ/σ · (g − mean(g) − x̂ · mean(g · x̂)), dγ = Σ g · x̂, dβ = Σ g.
 */
class BatchNorm extends Function {
  static override forward(ctx: FunctionCtx, x: Tensor, gamma: Tensor, beta: Tensor, eps: number): Tensor {
    const mean = x.mean(0, true);
    const variance = x.var(0, { correction: 0, keepdim: true });
    const invStd = variance.add(eps).rsqrt();
    const xHat = x.sub(mean).mul(invStd);
    ctx.saveForBackward(xHat, invStd, gamma);
    return xHat.mul(gamma).add(beta);
  }
  static override backward(ctx: FunctionCtx, g: Tensor): (Tensor | null)[] {
    const [xHat, invStd, gamma] = ctx.savedTensors as Tensor[];
    const dBeta = g.sum(0);
    const dGamma = g.mul(xHat!).sum(0);
    const dx = g.sub(g.mean(0, true)).sub(xHat!.mul(g.mul(xHat!).mean(0, true))).mul(gamma!.mul(invStd!));
    return [ctx.needsInputGrad[0] ? dx : null, dGamma, dBeta, null];
  }
}

describe("Function", () => {
  test("a hand-written ReLU matches the built-in one and passes gradcheck", () => {
    // ±(0.1 + u): away from the kink at 0.
    fc.assert(
      fc.property(inputArb(shapeArb(0, 3, 3), awayFromZero), (spec) => {
        check((x) => MyReLU.apply(x), [toLeaf(spec)]);
        const a = toLeaf(spec), b = toLeaf(spec);
        MyReLU.apply(a).mul(a).sum().backward();
        b.relu().mul(b).sum().backward();
        expect(values(a.grad)).toEqual(values(b.grad));
      }),
      { numRuns: 15 },
    );
  });

  test("the exported backward rules are the engine's: ReLU's rule in a Function gives the built-in gradient", () => {
    // Masked by the output, as a Function that applies ReLU inside another op would (y > 0 exactly where x > 0).
    class ReluByRule extends Function {
      static override forward(ctx: FunctionCtx, x: Tensor): Tensor {
        const y = x.relu();
        ctx.saveForBackward(y);
        return y;
      }
      static override backward(ctx: FunctionCtx, grad: Tensor): Tensor {
        const [y] = ctx.savedTensors;
        return new Tensor(UNARY_BACKWARD.relu!(grad.value, y!.value, y!.value, 0));
      }
    }
    const xs = [-2, -0, 0, 1e-30, 0.5, 3, NaN];
    const a = leaf(xs, [7]), b = leaf(xs, [7]);
    const w = leaf([1, 2, 3, 4, 5, 6, 7], [7], "contiguous", false);
    ReluByRule.apply(a).mul(w).sum().backward();
    b.relu().mul(w).sum().backward();
    expect(values(a.grad)).toEqual(values(b.grad));
    expect(values(a.grad)).toEqual([0, 0, 0, 4, 5, 6, 0]);
  });

  test("apply records one node named after the class; forward itself records nothing", () => {
    const x = leaf([1, -2], [2]);
    let insideRequiresGrad: boolean | undefined;
    class Probe extends Function {
      static override forward(_ctx: FunctionCtx, x: Tensor): Tensor {
        const y = x.exp();
        insideRequiresGrad = y.requiresGrad;
        return y;
      }
      static override backward(_ctx: FunctionCtx, g: Tensor): Tensor {
        return g;
      }
    }
    const y = Probe.apply(x);
    expect(insideRequiresGrad).toBe(false);
    expect(y.gradFn!.name).toBe("Probe");
    expect(y.gradFn!.inputs).toEqual([x]);
  });

  test("without an input that requires a gradient, or under noGrad, there is no graph", () => {
    const c = tensor([1, -1], { dtype: "float64" });
    expect(MyReLU.apply(c).gradFn).toBeNull();
    const x = leaf([1, -1], [2]);
    const y = noGrad(() => MyReLU.apply(x));
    expect(y.requiresGrad).toBe(false);
  });

  test("several outputs: one gradient per output, zeros for an unused output", () => {
    fc.assert(
      fc.property(inputArb(shapeArb(0, 2, 3)), (spec) => {
        check((x) => concat(SinCos.apply(x).map((t) => t.reshape([-1])), 0), [toLeaf(spec)]);
        // Only the cosine is used: the sine's gradient arrives as zeros.
        check((x) => SinCos.apply(x)[1]!, [toLeaf(spec)]);
      }),
      { numRuns: 10 },
    );
  });

  test("an integer output (indices) carries no gradient, the float one still does", () => {
    class MaxWithIndex extends Function {
      static override forward(ctx: FunctionCtx, x: Tensor): Tensor[] {
        const index = x.argmax(1, true);
        ctx.saveForBackward(index);
        ctx.shape = x.shape;
        return [x.gather(1, index), index];
      }
      static override backward(ctx: FunctionCtx, g: Tensor): Tensor {
        const [index] = ctx.savedTensors;
        return tensor(T.scatterAdd(T.zeros(ctx.shape as number[], { dtype: g.dtype }), 1, index!.value, g.value));
      }
    }
    const x = leaf([1, 5, 2, 7, 3, 4], [2, 3]);
    const [top, index] = MaxWithIndex.apply(x);
    expect(index!.dtype).toBe("int32");
    expect(index!.requiresGrad).toBe(false);
    expect(top!.requiresGrad).toBe(true);
    top!.sum().backward();
    expect(values(x.grad)).toEqual([0, 1, 0, 1, 0, 0]);
  });

  test("a non-tensor argument: needsInputGrad is false for it and its gradient is null", () => {
    const x = leaf([1, 2], [2]);
    const y = Scale.apply(x, 3);
    expect(y.gradFn!.inputs).toEqual([x, null]);
    y.sum().backward();
    expect(values(x.grad)).toEqual([3, 3]);
    let seen: readonly boolean[] | undefined;
    class Seen extends Scale {
      static override forward(ctx: FunctionCtx, x: Tensor, k: number): Tensor {
        seen = ctx.needsInputGrad;
        return super.forward(ctx, x, k);
      }
    }
    Seen.apply(x, 2);
    expect(seen).toEqual([true, false]);
    Seen.apply(tensor([1], { dtype: "float64" }), 2);
    expect(seen).toEqual([false, false]);
    check((x) => Scale.apply(x, -1.5), [leaf([0.5, 2], [2])]);
  });

  test("a custom batch norm passes gradcheck for input, scale and shift", () => {
    fc.assert(
      fc.property(
        fc.tuple(fc.integer({ min: 2, max: 4 }), fc.integer({ min: 1, max: 3 })).chain(([n, c]) =>
          fc.tuple(inputArb(fc.constant([n, c])), inputArb(fc.constant([c])), inputArb(fc.constant([c])))
        ),
        ([x, gamma, beta]) => check((x, g, b) => BatchNorm.apply(x, g, b, 1e-3), [toLeaf(x), toLeaf(gamma), toLeaf(beta)]),
      ),
      { numRuns: 15 },
    );
  });

  test("backward returning the wrong number of gradients is a GraphError", () => {
    class TooFew extends Function {
      static override forward(_ctx: FunctionCtx, a: Tensor, b: Tensor): Tensor {
        return a.mul(b);
      }
      static override backward(_ctx: FunctionCtx, g: Tensor): Tensor[] {
        return [g];
      }
    }
    const y = TooFew.apply(leaf([1], [1]), leaf([2], [1]));
    expect(() => y.sum().backward()).toThrow(GraphError);
    expect(() => TooFew.apply(leaf([1], [1]), leaf([2], [1])).sum().backward()).toThrow(
      /TooFew\.backward returned 1 gradient\(s\); it must return one per forward argument \(2\)/,
    );
  });

  test("backward returning a gradient of the wrong shape is a GraphError", () => {
    class WrongShape extends Function {
      static override forward(_ctx: FunctionCtx, a: Tensor): Tensor {
        return a.sum();
      }
      static override backward(_ctx: FunctionCtx, g: Tensor): Tensor {
        return g;
      }
    }
    const run = () => WrongShape.apply(leaf([1, 2, 3], [3])).backward();
    expect(run).toThrow(GraphError);
    expect(run).toThrow(/WrongShape\.backward returned a gradient of shape \[\] for argument 0 of shape \[3\]/);
  });

  test("forward and backward run with the class as this", () => {
    class Helper extends Function {
      static factor(): number {
        return 4;
      }
      static override forward(_ctx: FunctionCtx, x: Tensor): Tensor {
        return x.mul(this.factor());
      }
      static override backward(_ctx: FunctionCtx, g: Tensor): Tensor {
        return g.mul(this.factor());
      }
    }
    const x = leaf([1], [1]);
    Helper.apply(x).sum().backward();
    expect(values(x.grad)).toEqual([4]);
  });

  test("a Function without forward or backward says which is missing", () => {
    class NoForward extends Function {}
    expect(() => NoForward.apply()).toThrow("NoForward.forward is not implemented");
    class NoBackward extends Function {
      static override forward(_ctx: FunctionCtx, x: Tensor): Tensor {
        return x.clone();
      }
    }
    expect(() => NoBackward.apply(leaf([1], [1])).sum().backward()).toThrow("NoBackward.backward is not implemented");
  });

  test("forward must return tensors", () => {
    class Bad extends Function {
      static override forward(): Tensor {
        return 3 as never;
      }
    }
    expect(() => Bad.apply()).toThrow(/Bad\.forward must return a Tensor or an array of Tensors, got number/);
  });

  test("gradcheck of a two-input custom function", () => {
    class Hypot extends Function {
      static override forward(ctx: FunctionCtx, a: Tensor, b: Tensor): Tensor {
        const out = a.square().add(b.square()).sqrt();
        ctx.saveForBackward(a, b, out);
        return out;
      }
      static override backward(ctx: FunctionCtx, g: Tensor): Tensor[] {
        const [a, b, out] = ctx.savedTensors as Tensor[];
        return [g.mul(a!).div(out!), g.mul(b!).div(out!)];
      }
    }
    check((a, b) => Hypot.apply(a, b), [leaf([0.5, -1, 2], [3]), leaf([1, 0.3, -0.7], [3])]);
  });
});

import { describe, expect, test } from "vitest";
import * as T from "@backprop/tensor";
import { DoubleBackwardError, GraphError, noGrad, type Tensor } from "../src/mod.ts";
import { leaf } from "./helpers.ts";

const values = (t: Tensor | null): number[] => Array.from(t!.dataSync());

/** The error `run` throws (failing the test when it throws none). */
function thrown(run: () => void): Error {
  try {
    run();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a throw");
}

describe("second-order gradients are refused with a DoubleBackwardError", () => {
  test("createGraph: true throws before touching any gradient, naming the option and the limitation", () => {
    const x = leaf([1, 2, 3], [3]);
    const y = x.square().sum();
    const error = thrown(() => y.backward(undefined, { createGraph: true }));
    expect(error).toBeInstanceOf(DoubleBackwardError);
    expect(error).toBeInstanceOf(GraphError);
    expect(error).toBeInstanceOf(T.BackpropError);
    expect(error.message).toContain("backward: expected createGraph false or absent, got true");
    expect(error.message).toContain("second-order gradients");
    expect(x.grad).toBeNull();
    // The graph is still there: a first-order backward works afterwards.
    y.backward(undefined, { createGraph: false });
    expect(values(x.grad)).toEqual([2, 4, 6]);
  });

  test("backward from a .grad, or from a result computed from one, says second order is not supported", () => {
    const x = leaf([1, 2, 3], [3]);
    const h = x.mul(x).retainGrad();
    h.sum().backward();
    const attempts: [string, () => void][] = [
      ["x.grad.sum()", () => x.grad!.sum().backward()],
      ["x.grad itself", () => x.grad!.backward(T.ones([3], { dtype: "float64" }))],
      ["a chain of operations on x.grad", () => x.grad!.square().mul(3).add(1).mean().backward()],
      ["a retained non-leaf gradient", () => h.grad!.sum().backward()],
      ["x.grad used under noGrad with x", () => noGrad(() => x.grad!.mul(x)).sum().backward()],
    ];
    for (const [what, attempt] of attempts) {
      const error = thrown(attempt);
      expect(error, what).toBeInstanceOf(DoubleBackwardError);
      expect(error.message, what).toMatch(/backward: the tensor \[(3)?\] holds a gradient .* and has no graph/);
      expect(error.message, what).toContain("second-order gradients (the gradient of a gradient, PyTorch's create_graph=True) are not supported");
    }
  });

  test("a tensor without a graph that is not a gradient keeps the plain GraphError", () => {
    const c = leaf([1, 2], [2], "contiguous", false);
    const error = thrown(() => c.mul(2).sum().backward());
    expect(error).toBeInstanceOf(GraphError);
    expect(error).not.toBeInstanceOf(DoubleBackwardError);
    expect(error.message).toMatch(/does not require a gradient and has no graph/);
  });

  test("a gradient used with a tensor that requires one is a constant, as in PyTorch without create_graph", () => {
    const x = leaf([1, 2, 3], [3]);
    x.square().sum().backward();
    const g = x.grad!; // 2x
    x.grad = null;
    g.mul(x).sum().backward();
    // d/dx Σ g·x with g held constant is g = 2x; a true second-order pass would give 4x.
    expect(values(x.grad)).toEqual([2, 4, 6]);
  });
});

import { describe, expect, test } from "vitest";
import { noGrad, Tensor } from "@backprop/autograd";
import * as T from "@backprop/tensor";
import { batchNorm, BatchNorm2d } from "../src/mod.ts";

/** The unfused evaluation chain, op by op in the order batchNorm's graph path uses. */
function unfused(x: T.NDArray, mean: T.NDArray, variance: T.NDArray, w: T.NDArray, b: T.NDArray, eps: number): T.NDArray {
  const shape = x.shape.map((d, i) => (i === 1 ? d : 1));
  return x.sub(mean.reshape(shape)).mul(variance.add(eps).rsqrt().reshape(shape)).mul(w.reshape(shape)).add(b.reshape(shape));
}

describe("batch norm evaluation as one fused pass", () => {
  for (const dtype of ["float32", "float64"] as const) {
    test(`equals the unfused chain bit for bit (${dtype}, [8, 16, 12, 12])`, () => {
      const g = new T.Generator(5);
      const x = T.randn([8, 16, 12, 12], { dtype, generator: g });
      const mean = T.randn([16], { dtype, generator: g });
      const variance = T.rand([16], { dtype, generator: g }).add(0.5);
      const w = T.randn([16], { dtype, generator: g }), b = T.randn([16], { dtype, generator: g });
      const got = noGrad(() => batchNorm(new Tensor(x), mean, variance, { weight: new Tensor(w), bias: new Tensor(b), eps: 1e-5 }));
      expect(Array.from(got.value.dataSync())).toEqual(Array.from(unfused(x, mean, variance, w, b, 1e-5).dataSync()));
    });
  }

  test("a BatchNorm2d module in eval mode gives the same values with and without grad mode", () => {
    const bn = new BatchNorm2d(4);
    bn.train();
    noGrad(() => bn.forward(new Tensor(T.randn([6, 4, 5, 5], { generator: new T.Generator(1) }))));
    bn.eval();
    const x = new Tensor(T.randn([6, 4, 5, 5], { generator: new T.Generator(2) }));
    const withGraph = bn.forward(x), without = noGrad(() => bn.forward(x));
    expect(withGraph.requiresGrad).toBe(true);
    expect(without.requiresGrad).toBe(false);
    expect(Array.from(without.value.dataSync())).toEqual(Array.from(withGraph.value.dataSync()));
  });
});

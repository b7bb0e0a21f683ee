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

describe("batch norm with the batch's statistics (training) as fused passes", () => {
  for (const dtype of ["float32", "float64"] as const) {
    for (const shape of [[8, 6, 5, 5], [16, 12]]) {
      test(`forward and running statistics bit for bit, gradients within ${dtype === "float64" ? "1e-12" : "1e-5"} of the composed graph (${dtype}, [${shape}])`, () => {
        const run = (isFused: boolean) => {
          const g = new T.Generator(11);
          const c = shape[1]!;
          const x = new Tensor(T.randn(shape, { dtype, generator: g }).mul(3).add(1), { requiresGrad: true });
          const w = new Tensor(T.randn([c], { dtype, generator: g }), { requiresGrad: true });
          const b = new Tensor(T.randn([c], { dtype, generator: g }), { requiresGrad: true });
          const rm = T.zeros([c], { dtype }), rv = T.ones([c], { dtype });
          const y = batchNorm(x, rm, rv, { weight: w, bias: b, training: true, fused: isFused });
          // A loss whose gradient differs per element, so every term of the closed form counts.
          const probe = T.randn(shape, { dtype, generator: new T.Generator(3) });
          y.mul(new Tensor(probe)).sum().backward();
          return [y.value, rm, rv, x.grad!.value, w.grad!.value, b.grad!.value].map((a) => Array.from(a.dataSync()));
        };
        const [f, u] = [run(true), run(false)];
        for (let k = 0; k < 3; k++) expect(f[k]).toEqual(u[k]);
        const tol = dtype === "float64" ? 1e-12 : 1e-5;
        for (let k = 3; k < 6; k++) {
          const scale = Math.max(...u[k]!.map(Math.abs));
          f[k]!.forEach((v, i) => expect(Math.abs(v - u[k]![i]!)).toBeLessThanOrEqual(tol * Math.max(1, scale)));
        }
      });
    }
  }
});

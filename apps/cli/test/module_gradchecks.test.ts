import { expect, test } from "vitest";
import { concat, Generator, linspace, randn } from "@backprop/tensor";
import { numericGrad } from "../src/train/module_gradchecks.ts";

test("the manual modules' finite differences hold up beside large outputs (differenced before projected)", () => {
  const gen = new Generator(5);
  const x = randn([6], { dtype: "float64", generator: gen });
  // 3·x followed by 1024 outputs spread over ±1e4 that x does not move: the derivative of Σ out ⊙ r is 3·r[:6].
  // Differenced first, the unmoved outputs cancel exactly (error ~1e-10); projected first, they cost ~1e-6.
  const unmoved = linspace(-1e4, 1e4, 1024, { dtype: "float64" });
  const r = randn([6 + 1024], { dtype: "float64", generator: gen });
  const numerical = numericGrad(x, () => concat([x.mul(3), unmoved], 0), r);
  const expected = Array.from(r.dataSync()).slice(0, 6).map((v) => 3 * v);
  numerical.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThan(1e-8));
  // A scalar output needs no projection.
  const scalar = numericGrad(x, () => x.square().sum());
  Array.from(x.dataSync()).forEach((v, i) => expect(scalar[i]).toBeCloseTo(2 * v, 7));
});

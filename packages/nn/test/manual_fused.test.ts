// The manual MLP's fused passes — Linear + ReLU as one product with the bias and ReLU in its epilogue, the ReLU
// backward as one pass, the SGD update as one pass per parameter — give the values of the separate ops bit for
// bit, float32 and float64, on random sizes.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import * as T from "@backprop/tensor";
import { CrossEntropyModule, LinearModule, ManualMLP, ReLUModule } from "../src/mod.ts";

function expectSameBits(got: T.NDArray, want: T.NDArray, what: string): void {
  expect(got.shape, what).toEqual(want.shape);
  const g = got.dataSync(), w = want.dataSync();
  for (let i = 0; i < w.length; i++) {
    if (!Object.is(g[i], w[i])) throw new Error(`${what}: element ${i} is ${g[i]}, want ${w[i]}`);
  }
}

/** The step op by op: each layer's forward in turn (ReLU separately), backward, then θ − dθ·lr. */
function unfusedStep(mlp: ManualMLP, x: T.NDArray, labels: T.NDArray, lr: number): T.NDArray {
  let h = x;
  for (const layer of mlp.layers) h = layer.forward(h);
  mlp.backward(new CrossEntropyModule().backward(h, labels), { inputGrad: false });
  for (const l of mlp.linears) {
    for (const key of ["weight", "bias"] as const) {
      const next = T.keep(l.params[key].sub(l.grads[key].mul(lr)));
      l.params[key].dispose();
      l.params[key] = next;
    }
  }
  return h;
}

function fusedStep(mlp: ManualMLP, x: T.NDArray, labels: T.NDArray, lr: number): T.NDArray {
  const probs = mlp.forward(x);
  mlp.backward(new CrossEntropyModule().backward(probs, labels), { inputGrad: false });
  mlp.sgdStep(lr);
  return probs;
}

describe("ManualMLP fused passes", () => {
  test("a training step equals the separate ops bit for bit: probabilities, gradients, updated weights", () => {
    const arb = fc.record({
      dtype: fc.constantFrom<"float32" | "float64">("float32", "float64"),
      batch: fc.integer({ min: 1, max: 20 }),
      nInputs: fc.oneof(fc.integer({ min: 1, max: 30 }), fc.constant(300)),
      hidden: fc.array(fc.integer({ min: 1, max: 25 }), { maxLength: 2 }),
      nClasses: fc.integer({ min: 2, max: 10 }),
      seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    });
    fc.assert(
      fc.property(arb, ({ dtype, batch, nInputs, hidden, nClasses, seed }) =>
        T.tidy(() => {
          const make = () => new ManualMLP(nInputs, hidden, nClasses, { dtype, generator: new T.Generator(seed) });
          const fast = make(), slow = make();
          // Biases away from 0 and weights large enough that some ReLU inputs are negative.
          for (const mlp of [fast, slow]) {
            mlp.linears.forEach((l, i) => {
              l.params.weight = T.keep(T.randn(l.params.weight.shape, { dtype, generator: new T.Generator(seed + i) }).mul(0.3));
              l.params.bias = T.keep(T.randn(l.params.bias.shape, { dtype, generator: new T.Generator(seed + 50 + i) }));
            });
          }
          const x = T.randn([batch, nInputs], { dtype, generator: new T.Generator(seed + 100) });
          const labels = T.randint(0, nClasses, [batch], { generator: new T.Generator(seed + 101) });
          const what = JSON.stringify({ dtype, batch, nInputs, hidden, nClasses });
          expectSameBits(fusedStep(fast, x, labels, 0.05), unfusedStep(slow, x, labels, 0.05), `${what} probabilities`);
          fast.linears.forEach((l, i) => {
            for (const key of ["weight", "bias"] as const) {
              expectSameBits(l.grads[key], slow.linears[i]!.grads[key], `${what} layer ${i} d${key}`);
              expectSameBits(l.params[key], slow.linears[i]!.params[key], `${what} layer ${i} ${key}`);
            }
          });
        })
      ),
      { numRuns: 40 },
    );
  });

  test("ReLUModule.backward in one pass equals dout · (x > 0), NaN and ±0 included", () => {
    T.tidy(() => {
      const x = T.tensor([NaN, -0, 0, 1e-30, -1, 2, Infinity, -Infinity]);
      const dout = T.tensor([1, NaN, 3, -4, Infinity, -0, 7, 8]);
      const relu = new ReLUModule();
      relu.forward(x);
      expectSameBits(relu.backward(dout), dout.mul(x.gt(0).cast("float32")), "relu backward");
    });
  });

  test("a Linear + ReLU pair remembers the ReLU's output for its backward", () => {
    T.tidy(() => {
      const lin = new LinearModule(3, 4, { generator: new T.Generator(2) });
      lin.params.bias = T.keep(T.tensor([1, -1, 0.5, -0.5]));
      const x = T.randn([5, 3], { generator: new T.Generator(3) });
      const relu = new ReLUModule();
      const y = lin.forward(x, { relu: true });
      relu.rememberOutput(y);
      const dout = T.randn([5, 4], { generator: new T.Generator(4) });
      const separate = new ReLUModule();
      expectSameBits(y, separate.forward(lin.forward(x)), "forward");
      expectSameBits(relu.backward(dout), separate.backward(dout), "backward");
    });
  });
});

// The functional `linear` with a bias (and `linearRelu`) runs as one operation on the CPU (matmulBias forward,
// hand-written backward). It must give the composed graph's values: forward bit for bit, gradients to rounding
// (their sums run in another order for inputs with more than two dimensions); float64 gradients against finite
// differences.
import fc from "fast-check";
import { afterEach, describe, expect, test } from "vitest";
import { gradcheck, Tensor } from "@backprop/autograd";
import * as T from "@backprop/tensor";
import { linear, linearRelu, MLP } from "../src/mod.ts";

const backend = T.getBackend("cpu");
const epilogue = backend.matmulBias;
afterEach(() => {
  backend.matmulBias = epilogue;
});

/** Runs `fn` as on a backend without the GEMM epilogue: `linear` then composes matmul and add. */
function composedPath<R>(fn: () => R): R {
  backend.matmulBias = undefined;
  try {
    return fn();
  } finally {
    backend.matmulBias = epilogue;
  }
}

interface Result {
  y: Float32Array | Float64Array;
  grads: (Float32Array | Float64Array | null)[];
}

function step(x: T.NDArray, w: T.NDArray, b: T.NDArray, needs: readonly boolean[], g: T.NDArray, relu = false): Result {
  const inputs = [x, w, b].map((v, i) => new Tensor(v, { requiresGrad: needs[i]! }));
  const y = (relu ? linearRelu : linear)(inputs[0]!, inputs[1]!, inputs[2]!);
  if (y.requiresGrad) y.mul(new Tensor(g)).sum().backward();
  return {
    y: y.value.dataSync() as Float32Array,
    grads: inputs.map((t) => (t.grad ? (t.grad.value.dataSync() as Float32Array) : null)),
  };
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    if (!(d <= tol * (1 + Math.abs(want[i]!)))) throw new Error(`${what}[${i}] = ${got[i]}, want ${want[i]}`);
  }
}

describe("linear with a bias, as one operation", () => {
  test("the CPU has the epilogue, so the cases below compare the two paths", () => {
    expect(epilogue).toBeTypeOf("function");
  });

  test("equals the composed graph: forward bit for bit, each requested gradient, no other", () => {
    const arb = fc.record({
      dtype: fc.constantFrom<"float32" | "float64">("float32", "float64"),
      lead: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }),
      inF: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constant(300)),
      outF: fc.integer({ min: 1, max: 24 }),
      needs: fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()),
      relu: fc.boolean(),
      seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    });
    fc.assert(
      fc.property(arb, ({ dtype, lead, inF, outF, needs, relu, seed }) =>
        T.tidy(() => {
          const gen = new T.Generator(seed);
          const x = T.randn([...lead, inF], { dtype, generator: gen });
          const w = T.randn([outF, inF], { dtype, generator: gen }), b = T.randn([outF], { dtype, generator: gen });
          const g = T.randn([...lead, outF], { dtype, generator: gen });
          const fast = step(x, w, b, needs, g, relu);
          const slow = composedPath(() => step(x, w, b, needs, g, relu));
          const what = JSON.stringify({ dtype, lead, inF, outF, needs, relu });
          expect(Array.from(fast.y), what).toEqual(Array.from(slow.y));
          const tol = dtype === "float32" ? 1e-5 : 1e-12;
          fast.grads.forEach((grad, i) => {
            expect(grad === null, `${what} gradient ${i}`).toBe(!needs[i]);
            expect(slow.grads[i] === null).toBe(!needs[i]);
            if (grad) expectClose(grad, slow.grads[i]!, tol * Math.sqrt(inF * lead.reduce((p, q) => p * q, 1)), `${what} grad ${i}`);
          });
        })
      ),
      { numRuns: 60 },
    );
  });

  test("float64 gradients match finite differences", () => {
    T.tidy(() => {
      const gen = new T.Generator(11);
      const x = new Tensor(T.randn([3, 2, 5], { dtype: "float64", generator: gen }), { requiresGrad: true });
      const w = new Tensor(T.randn([4, 5], { dtype: "float64", generator: gen }), { requiresGrad: true });
      const b = new Tensor(T.randn([4], { dtype: "float64", generator: gen }), { requiresGrad: true });
      expect(gradcheck((xi, wi, bi) => linear(xi!, wi!, bi!), [x, w, b]).pass).toBe(true);
      expect(gradcheck((xi, wi, bi) => linearRelu(xi!, wi!, bi!), [x, w, b]).pass).toBe(true);
    });
  });

  test("the MLP (Linear then ReLU through linearRelu) equals its layers applied one after the other", () => {
    T.tidy(() => {
      const gen = new T.Generator(5);
      const model = new MLP(12, [9, 7], 4, { generator: gen });
      const x = T.randn([6, 12], { generator: gen });
      const run = (forward: (input: Tensor) => Tensor) => {
        model.zeroGrad();
        const y = forward(new Tensor(x));
        y.mul(new Tensor(T.randn(y.shape, { generator: new T.Generator(9) }))).sum().backward();
        return { y: Array.from(y.value.dataSync()), grads: model.parameters().map((p) => Array.from(p.grad!.value.dataSync())) };
      };
      const fused = run((input) => model.forward(input));
      const layered = run((input) => model.layers.forward(input));
      expect(fused.y).toEqual(layered.y);
      fused.grads.forEach((grad, i) => expectClose(grad, layered.grads[i]!, 1e-6, `parameter ${i}`));
    });
  });
});

import { afterEach, describe, expect, test } from "vitest";
import { Tensor } from "@backprop/autograd";
import * as T from "@backprop/tensor";
import { crossEntropy, MLP } from "../src/mod.ts";

// The backward pass computes only the gradients something needs: a batch of images never requires one, so the
// first layer's dL/dx (as many multiply-adds as its weight gradient) must not be computed.
const backend = T.getBackend("cpu");
const original = backend.matmul;
// Products with the bias in the epilogue (linear layers' forward pass on the CPU) count as products too.
const originalBias = backend.matmulBias;
afterEach(() => {
  backend.matmul = original;
  backend.matmulBias = originalBias;
});

function countMatmuls(run: () => void): number {
  let calls = 0;
  backend.matmul = function (...args: Parameters<typeof original>) {
    calls++;
    return original.apply(this, args);
  };
  if (originalBias) {
    backend.matmulBias = function (...args: Parameters<typeof originalBias>) {
      calls++;
      return originalBias.apply(this, args);
    };
  }
  try {
    run();
  } finally {
    backend.matmul = original;
    backend.matmulBias = originalBias;
  }
  return calls;
}

describe("gradients nobody needs are not computed", () => {
  const step = (inputRequiresGrad: boolean) =>
    countMatmuls(() =>
      T.tidy(() => {
        const model = new MLP(6, [5], 3, { generator: new T.Generator(1) });
        const x = new Tensor(T.randn([4, 6], { generator: new T.Generator(2) }), { requiresGrad: inputRequiresGrad });
        crossEntropy(model.forward(x), T.tensor([0, 1, 2, 0], { dtype: "int32" })).backward();
      })
    );

  test("an MLP step on plain inputs computes no dL/dx for them", () => {
    // Forward: 2 products. Backward: dW for both layers, dx for the second layer's input only.
    expect(step(false)).toBe(2 + 3);
    // An input that asks for its gradient gets one more product.
    expect(step(true)).toBe(2 + 4);
  });
});

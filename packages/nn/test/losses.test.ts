import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { gradcheck, Tensor, tensor } from "@backprop/autograd";
import * as T from "@backprop/tensor";
import { CrossEntropyLoss, crossEntropy, functional, MSELoss, mseLoss, NLLLoss, nllLoss } from "../src/mod.ts";
import { largeOffset, randn64, values, withLargeOutputs } from "./helpers.ts";

const logits = () => tensor([[1, 2, 3], [1, -1, 0.5]], { dtype: "float64", requiresGrad: true });
const labels = () => T.tensor([2, 0], { dtype: "int32" });

function logSumExp(row: number[]): number {
  const m = Math.max(...row);
  return m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
}

describe("crossEntropy", () => {
  test("class indices: −mean(z_y − log Σ exp z), with mean, sum and none reductions", () => {
    const per = [-(3 - logSumExp([1, 2, 3])), -(1 - logSumExp([1, -1, 0.5]))];
    expect(values(crossEntropy(logits(), labels(), { reduction: "none" }))).toEqual(per.map((v) => expect.closeTo(v, 14)));
    expect(crossEntropy(logits(), labels(), { reduction: "sum" }).itemSync()).toBeCloseTo(per[0]! + per[1]!, 14);
    expect(crossEntropy(logits(), labels()).itemSync()).toBeCloseTo((per[0]! + per[1]!) / 2, 14);
    expect(crossEntropy(logits(), new Tensor(labels())).itemSync()).toBeCloseTo((per[0]! + per[1]!) / 2, 14);
  });

  test("its gradient is (softmax − one-hot) / N", () => {
    const z = logits();
    crossEntropy(z, labels()).backward();
    const rows = [[1, 2, 3], [1, -1, 0.5]];
    const expected = rows.flatMap((row, i) => {
      const lse = logSumExp(row);
      return row.map((v, c) => (Math.exp(v - lse) - (c === [2, 0][i] ? 1 : 0)) / 2);
    });
    values(z.grad!).forEach((g, i) => expect(g).toBeCloseTo(expected[i]!, 14));
  });

  test("one-hot probability targets give the same loss as indices; soft targets weight the log-probabilities", () => {
    const oneHot = T.oneHot(labels(), 3, { dtype: "float64" });
    expect(crossEntropy(logits(), oneHot).itemSync()).toBeCloseTo(crossEntropy(logits(), labels()).itemSync(), 14);
    const soft = T.tensor([[0.2, 0.3, 0.5], [1, 0, 0]], { dtype: "float64" });
    const lse = logSumExp([1, 2, 3]);
    const first = -(0.2 * (1 - lse) + 0.3 * (2 - lse) + 0.5 * (3 - lse));
    expect(values(crossEntropy(logits(), soft, { reduction: "none" }))[0]).toBeCloseTo(first, 14);
  });

  test("is stable for huge logits", () => {
    const z = tensor([[1000, 0, -1000], [-1e4, 1e4, 0]], { dtype: "float32" });
    const loss = crossEntropy(z, T.tensor([0, 1], { dtype: "int32" }));
    expect(loss.itemSync()).toBe(0);
    const wrong = crossEntropy(z, T.tensor([2, 0], { dtype: "int32" }), { reduction: "none" });
    expect(values(wrong)).toEqual([2000, 2e4]);
  });

  test("unbatched [C] input and [N, C, d] input with [N, d] targets", () => {
    const single = crossEntropy(tensor([1, 2, 3], { dtype: "float64" }), T.tensor([2], { dtype: "int32" }).reshape([]));
    expect(single.itemSync()).toBeCloseTo(-(3 - logSumExp([1, 2, 3])), 14);
    const z = randn64([2, 3, 4], 1);
    const t = T.randint(0, 3, [2, 4], { generator: new T.Generator(2) });
    const spatial = crossEntropy(z, t).itemSync();
    const flat = crossEntropy(new Tensor(z.value.permute(0, 2, 1).reshape([8, 3])), t.reshape([8])).itemSync();
    expect(spatial).toBeCloseTo(flat, 14);
  });

  test("errors name the expected target", () => {
    expect(() => crossEntropy(logits(), T.tensor([0, 1, 2], { dtype: "int32" }))).toThrow(/class-index targets of shape \[2\], got \[3\]/);
    expect(() => crossEntropy(logits(), T.zeros([2, 4], { dtype: "float64" }))).toThrow(/probability targets must have the input's shape \[2, 3\]/);
    expect(() => crossEntropy(logits(), T.zeros([2], { dtype: "bool" }))).toThrow(/int32 class indices or float probabilities, got bool/);
    expect(() => crossEntropy(logits(), labels(), { reduction: "avg" as never })).toThrow(/reduction must be "mean", "sum" or "none"/);
    expect(() => crossEntropy(logits(), T.tensor([3, 0], { dtype: "int32" }))).toThrow();
  });

  test("gradcheck with index and probability targets (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 2, max: 5 }), fc.nat(1000), fc.constantFrom("mean", "sum", "none" as const), largeOffset, (n, c, seed, reduction, offset) => {
        T.tidy(() => {
          const z = randn64([n, c], seed, { requiresGrad: true, scale: 3 });
          const idx = T.randint(0, c, [n], { generator: new T.Generator(seed) });
          gradcheck((x) => crossEntropy(x, idx, { reduction }), [z]);
          gradcheck(withLargeOutputs((x) => crossEntropy(x, idx, { reduction }), offset), [z]);
          const p = T.softmax(T.randn([n, c], { dtype: "float64", generator: new T.Generator(seed + 1) }), 1);
          gradcheck((x) => crossEntropy(x, p, { reduction }), [z]);
          gradcheck(withLargeOutputs((x) => crossEntropy(x, p, { reduction }), offset), [z]);
        });
      }),
      { numRuns: 10 },
    );
  });
});

describe("nllLoss and mseLoss", () => {
  test("nllLoss picks −input[target]", () => {
    const logp = tensor([[-1, -2, -3], [-0.5, -1.5, -2.5]], { dtype: "float64" });
    expect(nllLoss(logp, labels(), { reduction: "none" }).toArraySync()).toEqual([3, 0.5]);
    expect(nllLoss(logp, labels()).itemSync()).toBe(1.75);
    expect(() => nllLoss(logp, T.tensor([0.5, 1], { dtype: "float32" }))).toThrow(/int32 class indices/);
  });

  test("mseLoss averages or sums squared errors; shapes must match", () => {
    const a = tensor([1, 2, 3], { dtype: "float64" }), b = T.tensor([1, 0, 0], { dtype: "float64" });
    expect(mseLoss(a, b).itemSync()).toBeCloseTo(13 / 3, 15);
    expect(mseLoss(a, b, { reduction: "sum" }).itemSync()).toBe(13);
    expect(mseLoss(a, b, { reduction: "none" }).toArraySync()).toEqual([0, 4, 9]);
    expect(() => mseLoss(a, T.zeros([3, 1]))).toThrow(/input \[3\] and target \[3, 1\] must have the same shape/);
    const x = randn64([3, 2], 5, { requiresGrad: true }), y = randn64([3, 2], 6, { requiresGrad: true });
    gradcheck((p, q) => mseLoss(p, q), [x, y]);
  });

  test("nllLoss and mseLoss pass gradcheck with large outputs (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 2, max: 5 }), fc.nat(1000), largeOffset, (n, c, seed, offset) => {
        T.tidy(() => {
          const logp = randn64([n, c], seed, { requiresGrad: true });
          const target = T.randint(0, c, [n], { generator: new T.Generator(seed) });
          gradcheck((x) => nllLoss(x, target, { reduction: "none" }), [logp]);
          gradcheck(withLargeOutputs((x) => nllLoss(x, target), offset), [logp]);
          const y = randn64([n, c], seed + 1, { requiresGrad: true });
          gradcheck(withLargeOutputs((p, q) => mseLoss(p, q, { reduction: "sum" }), offset), [logp, y]);
        });
      }),
      { numRuns: 10 },
    );
  });

  test("loss modules call the functional forms; functional also holds the layer functions", () => {
    expect(new CrossEntropyLoss({ reduction: "sum" }).forward(logits(), labels()).itemSync())
      .toBe(crossEntropy(logits(), labels(), { reduction: "sum" }).itemSync());
    expect(new NLLLoss().forward(logits(), labels()).itemSync()).toBe(nllLoss(logits(), labels()).itemSync());
    const a = randn64([4], 1), b = randn64([4], 2);
    expect(new MSELoss().forward(a, b).itemSync()).toBe(mseLoss(a, b).itemSync());
    expect(functional.crossEntropy).toBe(crossEntropy);
    expect(values(functional.relu(tensor([-1, 1], { dtype: "float32" })))).toEqual([0, 1]);
  });
});

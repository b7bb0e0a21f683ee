/**
 * Hand-checked values (as PyTorch prints them) for the operations whose conventions are easy to get subtly wrong.
 * The conformance suite compares backends with the float64 reference; these pin the reference itself too.
 */
import { describe, expect, test } from "vitest";
import {
  arange,
  avgPool2d,
  conv2d,
  gather,
  maxPool2d,
  oneHot,
  round,
  scatterAdd,
  sigmoid,
  softmax,
  tensor,
  tidy,
  variance,
} from "../src/mod.ts";
import { reference as ref } from "../src/testing/mod.ts";

const close = (got: ArrayLike<number>, want: number[], digits = 4) =>
  Array.from(got).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, digits));

describe("known values", () => {
  test("softmax([1, 2, 3]) = [0.0900, 0.2447, 0.6652]", () => {
    const want = [0.09003057, 0.24472847, 0.66524096];
    tidy(() => close(softmax(tensor([1, 2, 3], { dtype: "float32" })).dataSync(), want, 6));
    close(ref.refSoftmax(ref.refArray([3], "float64", [1, 2, 3]), -1, false).data, want, 7);
  });

  test("var([1, 2, 3, 4]) = 1.6667 (Bessel), 1.25 with correction 0", () => {
    tidy(() => {
      const x = tensor([1, 2, 3, 4], { dtype: "float32" });
      close(variance(x).dataSync(), [5 / 3]);
      close(variance(x, undefined, { correction: 0 }).dataSync(), [1.25]);
    });
    expect(ref.refVar(ref.refArray([4], "float64", [1, 2, 3, 4]), undefined, 1, false).data[0]).toBeCloseTo(5 / 3, 12);
  });

  test("round halves to even; sigmoid(0) = 0.5", () => {
    const x = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.6];
    const want = [-2, -2, -0, 0, 2, 2, 3];
    tidy(() => expect(Array.from(round(tensor(x, { dtype: "float32" })).dataSync())).toEqual(want));
    // The reference keeps the sign of a negative number rounded to zero too (torch.round(-0.5) = -0.).
    expect(x.map((v) => ref.unaryValue("round", v))).toEqual(want);
    tidy(() => expect(sigmoid(tensor([0], { dtype: "float32" })).dataSync()[0]).toBe(0.5));
  });

  test("conv2d: 3×3 input, 2×2 kernel, padding 1, stride 2", () => {
    // torch.nn.functional.conv2d(torch.arange(9.).view(1,1,3,3), torch.tensor([[[[1.,2.],[3.,4.]]]]), padding=1, stride=2)
    // windows start at rows/cols −1 and 1: [0·4, 1·3 + 2·4; 3·2 + 6·4, 4·1 + 5·2 + 7·3 + 8·4]
    const expected = [[[[0, 11], [30, 67]]]];
    tidy(() => {
      const x = arange(9, undefined, undefined, { dtype: "float32" }).reshape(1, 1, 3, 3);
      const w = tensor([[[[1, 2], [3, 4]]]], { dtype: "float32" });
      expect(conv2d(x, w, null, { padding: 1, stride: 2 }).toArraySync()).toEqual(expected);
    });
    const r = ref.refConv2d(
      ref.refArray([1, 1, 3, 3], "float64", [0, 1, 2, 3, 4, 5, 6, 7, 8]),
      ref.refArray([1, 1, 2, 2], "float64", [1, 2, 3, 4]),
      { kernel: [2, 2], stride: [2, 2], padding: [1, 1], dilation: [1, 1] },
      1,
    );
    expect(r.data).toEqual([0, 11, 30, 67]);
  });

  test("maxPool2d indices are flat positions in the input plane; the first maximum wins", () => {
    tidy(() => {
      const x = tensor([[[[1, 5, 5], [2, 0, 7], [3, 3, 1]]]], { dtype: "float32" });
      const { values, indices } = maxPool2d(x, 2, { stride: 1 });
      expect(values.toArraySync()).toEqual([[[[5, 7], [3, 7]]]]);
      expect(indices.toArraySync()).toEqual([[[[1, 5], [6, 5]]]]);
    });
  });

  test("avgPool2d with padding: countIncludePad divides by the whole window, else by its in-bounds part", () => {
    tidy(() => {
      const x = tensor([[[[1, 2], [3, 4]]]], { dtype: "float32" });
      // torch avg_pool2d(x, 2, stride=1, padding=1): corners see one value of four cells.
      expect(avgPool2d(x, 2, { stride: 1, padding: 1 }).toArraySync()).toEqual([[[[0.25, 0.75, 0.5], [1, 2.5, 1.5], [0.75, 1.75, 1]]]]);
      expect(avgPool2d(x, 2, { stride: 1, padding: 1, countIncludePad: false }).toArraySync()).toEqual([[[[1, 1.5, 2], [2, 2.5, 3], [3, 3.5, 4]]]]);
    });
  });

  test("gather, scatterAdd (repeats accumulate), oneHot", () => {
    tidy(() => {
      const x = tensor([[1, 2], [3, 4]]);
      expect(gather(x, 1, tensor([[0, 0], [1, 0]])).toArraySync()).toEqual([[1, 1], [4, 3]]);
      const s = scatterAdd(tensor([0, 0, 0, 0], { dtype: "float32" }), 0, tensor([1, 1, 3]), tensor([1, 2, 5], { dtype: "float32" }));
      expect(s.toArraySync()).toEqual([0, 3, 0, 5]);
      expect(oneHot(tensor([2, 0]), 3).toArraySync()).toEqual([[0, 0, 1], [1, 0, 0]]);
    });
  });
});

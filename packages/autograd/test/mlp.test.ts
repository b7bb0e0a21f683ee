import { describe, expect, test } from "vitest";
import * as T from "@backprop/tensor";
import { type Tensor, tensor } from "../src/mod.ts";
import { check } from "./helpers.ts";

type Matrix = number[][];

// Plain-JS matrix helpers for the hand computation, independent of the library's kernels.
const matmul = (a: Matrix, b: Matrix): Matrix => a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
const transpose = (a: Matrix): Matrix => a[0]!.map((_, j) => a.map((row) => row[j]!));
const columnSums = (a: Matrix): number[] => a[0]!.map((_, j) => a.reduce((s, row) => s + row[j]!, 0));
const addRow = (a: Matrix, b: number[]): Matrix => a.map((row) => row.map((v, j) => v + b[j]!));

/** Deterministic values in (-1, 1) from a seed (a small linear congruential generator). */
function values(seed: number, rows: number, cols: number): Matrix {
  let s = seed;
  const next = () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return (s / 2 ** 31) * 2 - 1;
  };
  return Array.from({ length: rows }, () => Array.from({ length: cols }, next));
}

const asTensor = (m: Matrix | number[], requiresGrad: boolean): Tensor =>
  tensor(m as number[][], { dtype: "float64", requiresGrad });
const asMatrix = (t: Tensor): Matrix => t.toArraySync() as Matrix;

describe("a 2-layer MLP: Linear → ReLU → Linear → softmax cross-entropy", () => {
  const B = 4, D = 5, H = 6, C = 3;
  const X = values(1, B, D);
  const W1 = values(2, H, D), b1 = values(3, 1, H)[0]!;
  const W2 = values(4, C, H), b2 = values(5, 1, C)[0]!;
  const labels = [0, 2, 1, 2];
  const Y: Matrix = labels.map((y) => Array.from({ length: C }, (_, c) => (c === y ? 1 : 0)));

  /** loss = −(1/B) Σ_b log softmax(Z2)[b, y_b], with Zk = A·Wkᵀ + bk (PyTorch's Linear layout). */
  function forward(x: Tensor, w1: Tensor, c1: Tensor, w2: Tensor, c2: Tensor): { z1: Tensor; loss: Tensor } {
    const z1 = x.matmul(w1.T).add(c1);
    const z2 = z1.relu().matmul(w2.T).add(c2);
    const picked = z2.logSoftmax(1).gather(1, T.tensor(labels.map((y) => [y]), { dtype: "int32" }));
    return { z1, loss: picked.sum().neg().div(B) };
  }

  test("autograd's gradients equal the hand-derived batched formulas", () => {
    const x = asTensor(X, false);
    const w1 = asTensor(W1, true), c1 = asTensor(b1, true), w2 = asTensor(W2, true), c2 = asTensor(b2, true);
    const { loss } = forward(x, w1, c1, w2, c2);
    loss.backward();

    // The forward pass by hand.
    const Z1 = addRow(matmul(X, transpose(W1)), b1);
    const A1 = Z1.map((row) => row.map((v) => Math.max(0, v)));
    const Z2 = addRow(matmul(A1, transpose(W2)), b2);
    const P = Z2.map((row) => {
      const m = Math.max(...row);
      const e = row.map((v) => Math.exp(v - m));
      const s = e.reduce((a, v) => a + v, 0);
      return e.map((v) => v / s);
    });
    const expectedLoss = -labels.reduce((s, y, b) => s + Math.log(P[b]![y]!), 0) / B;

    // The backward pass by hand: dZ2 = (P − Y)/B, dW2 = dZ2ᵀ·A1, db2 = Σ_b dZ2, then through the ReLU mask.
    const dZ2 = P.map((row, b) => row.map((p, c) => (p - Y[b]![c]!) / B));
    const dW2 = matmul(transpose(dZ2), A1);
    const db2 = columnSums(dZ2);
    const dA1 = matmul(dZ2, W2);
    const dZ1 = dA1.map((row, b) => row.map((g, h) => (Z1[b]![h]! > 0 ? g : 0)));
    const dW1 = matmul(transpose(dZ1), X);
    const db1 = columnSums(dZ1);

    const close = (actual: Matrix | number[], expected: Matrix | number[]) => {
      const a = actual.flat(), e = expected.flat();
      expect(a.length).toBe(e.length);
      a.forEach((v, i) => expect(v).toBeCloseTo(e[i]!, 12));
    };
    expect(loss.itemSync()).toBeCloseTo(expectedLoss, 12);
    close(asMatrix(w2.grad!), dW2);
    close(Array.from(c2.grad!.dataSync()), db2);
    close(asMatrix(w1.grad!), dW1);
    close(Array.from(c1.grad!.dataSync()), db1);
    // Some hidden units must be off for the mask to be tested.
    expect(Z1.flat().some((v) => v <= 0)).toBe(true);
    expect(Z1.flat().some((v) => v > 0)).toBe(true);
  });

  test("the same loss passes gradcheck for every parameter and the input", () => {
    const inputs = [asTensor(X, true), asTensor(W1, true), asTensor(b1, true), asTensor(W2, true), asTensor(b2, true)];
    check((x, w1, c1, w2, c2) => forward(x!, w1!, c1!, w2!, c2!).loss, inputs);
  });
});

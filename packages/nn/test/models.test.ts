import { describe, expect, test } from "vitest";
import { noGrad, Tensor } from "@backprop/autograd";
import * as T from "@backprop/tensor";
import { Adam, ConvNet, crossEntropy, MLP, type MLPBatchNorm, SGD } from "../src/mod.ts";
import { values } from "./helpers.ts";

/** 64 points in four blobs arranged like XOR: no linear model separates them. */
function xorBlobs(): { x: Tensor; y: T.NDArray } {
  const g = new T.Generator(7);
  const noise = T.randn([64, 2], { generator: g }).mul(0.15);
  const centers: number[][] = [], labels: number[] = [];
  for (let i = 0; i < 64; i++) {
    const a = i % 2, b = (i >> 1) % 2;
    centers.push([a ? 1 : -1, b ? 1 : -1]);
    labels.push(a ^ b);
  }
  return { x: new Tensor(T.tensor(centers, { dtype: "float32" }).add(noise)), y: T.tensor(labels, { dtype: "int32" }) };
}

function accuracy(logits: Tensor, y: T.NDArray): number {
  const pred = values(logits.value.argmax(1)), truth = values(y);
  return pred.filter((p, i) => p === truth[i]).length / pred.length;
}

describe("MLP", () => {
  test("state dict keys mirror a PyTorch nn.Sequential named `layers`", () => {
    expect(Object.keys(new MLP(4, [3], 2).stateDict())).toEqual(["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"]);
    expect(Object.keys(new MLP(4, [3], 2, { batchNorm: "builtin", dropout: 0.5 }).stateDict())).toEqual([
      "layers.0.weight", "layers.0.bias",
      "layers.1.weight", "layers.1.bias", "layers.1.running_mean", "layers.1.running_var", "layers.1.num_batches_tracked",
      "layers.4.weight", "layers.4.bias",
    ]);
    expect(Object.keys(new MLP(4, [3], 2, { batchNorm: "manual" }).stateDict())).toEqual([
      "layers.0.weight", "layers.0.bias", "layers.1.gamma", "layers.1.beta", "layers.3.weight", "layers.3.bias",
    ]);
    expect(new MLP(4, [], 2).layers.length).toBe(1);
    expect(() => new MLP(4, [3], 2, { batchNorm: "yes" as MLPBatchNorm })).toThrow(/batchNorm must be false, "autograd", "manual" or "builtin"/);
    expect(new MLP(12, [3], 2).forward(new Tensor(T.zeros([5, 3, 2, 2]))).shape).toEqual([5, 2]);
  });

  test("learns a toy problem (XOR blobs) to 100% training accuracy", () => {
    const { x, y } = xorBlobs();
    const model = new MLP(2, [32], 2, { generator: new T.Generator(1) });
    const opt = new Adam(model.parameters(), { lr: 0.02 });
    for (let step = 0; step < 150; step++) {
      T.tidy(() => {
        opt.zeroGrad();
        crossEntropy(model.forward(x), y).backward();
        opt.step();
      });
    }
    model.eval();
    expect(noGrad(() => accuracy(model.forward(x), y))).toBe(1);
  });

  test("the three batch-norm variants give the same model; dropout is off in evaluation", () => {
    const { x, y } = xorBlobs();
    const variants = (["autograd", "manual", "builtin"] as const).map((batchNorm) => {
      const m = new MLP(2, [8, 8], 2, { batchNorm, generator: new T.Generator(3), dtype: "float64" });
      const xd = new Tensor(x.value.cast("float64"));
      const loss = crossEntropy(m.forward(xd), y);
      loss.backward();
      return { loss: loss.itemSync(), grad: values(m.layers.at(0).parameters()[0]!.grad!) };
    });
    for (const v of variants.slice(1)) {
      expect(v.loss).toBeCloseTo(variants[0]!.loss, 12);
      v.grad.forEach((g, i) => expect(g).toBeCloseTo(variants[0]!.grad[i]!, 12));
    }
    const dropped = new MLP(2, [16], 2, { dropout: 0.5, generator: new T.Generator(4) }).eval();
    expect(values(dropped.forward(x))).toEqual(values(dropped.forward(x)));
  });
});

describe("ConvNet", () => {
  // Initialising 9.2 million parameters takes a moment: the tests share one network (the training step runs last).
  const net = new ConvNet(3, 10, { generator: new T.Generator(5) });

  test("has the assignment's layers under PyTorch state-dict names", () => {
    const keys = Object.keys(net.stateDict());
    const block = (c: string, b: string) => [
      `${c}.weight`, `${c}.bias`, `${b}.weight`, `${b}.bias`, `${b}.running_mean`, `${b}.running_var`, `${b}.num_batches_tracked`,
    ];
    expect(keys).toEqual([
      ...block("conv1", "bn1"), ...block("conv2", "bn2"),
      ...block("conv3_a", "bn3_a"), ...block("conv3_b", "bn3_b"),
      ...block("conv4_a", "bn4_a"), ...block("conv4_b", "bn4_b"),
      ...block("conv5_a", "bn5_a"), ...block("conv5_b", "bn5_b"),
      "linear.weight", "linear.bias",
    ]);
    expect(net.conv3_b.weight.shape).toEqual([256, 256, 3, 3]);
    expect(net.conv5_b.weight.shape).toEqual([512, 512, 3, 3]);
    expect(net.linear.weight.shape).toEqual([10, 512]);
    expect(net.parameters().reduce((n, p) => n + p.size, 0)).toBe(9_231_114);
    expect(net.maxpool1.toString()).toBe("MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1)");
    expect(() => net.forward(new Tensor(T.zeros([1, 1, 32, 32])))).toThrow(/expected images \[N, 3, H, W\]/);
  });

  test("images that do not pool down to 1×1 are a clear error", () => {
    expect(() => net.forward(new Tensor(T.zeros([1, 3, 40, 33])))).toThrow(
      /40×33 images leave 2×2 maps after five poolings; the classifier needs 1×1/,
    );
  });

  test("one training step on a CIFAR-shaped batch reduces the loss", () => {
    // The CPU convolution kernels are plain TypeScript: a batch of two keeps this test to seconds.
    const images = new Tensor(T.randn([2, 3, 32, 32], { generator: new T.Generator(6) }));
    const labels = T.tensor([3, 7], { dtype: "int32" });
    const opt = new SGD(net.parameters(), { lr: 0.01, momentum: 0.9 });
    const before = T.tidy(() => {
      opt.zeroGrad();
      const loss = crossEntropy(net.forward(images), labels);
      loss.backward();
      opt.step();
      return loss.itemSync();
    });
    const after = T.tidy(() => noGrad(() => crossEntropy(net.forward(images), labels).itemSync()));
    expect(Number.isFinite(before)).toBe(true);
    expect(after).toBeLessThan(before);
    expect(values(net.bn1.getBuffer("num_batches_tracked"))).toEqual([2]);
  }, 60_000);
});

/**
 * Memory across training: 300 small SGD steps of a two-layer network on the GPU, each inside `tidy`, with the
 * loss accumulated on the device and read only at the end (as a training loop does between evaluations). The
 * buffer pool must reach its final size within the first steps and stay there: every temporary of a step goes
 * back to the pool and is reused by the next step.
 */
import * as A from "@backprop/autograd";
import { Generator, keep, type NDArray, rand, tidy } from "@backprop/tensor";
import { gpu, noGpu } from "./setup.ts";

Deno.test({
  name: "training: 300 SGD steps keep the pool's held bytes flat and the loss falls",
  ignore: noGpu,
  fn: async () => {
    const gen = new Generator(3);
    const device = "webgpu";
    const param = (shape: number[], scale: number) =>
      A.tensor(keep(tidy(() => rand(shape, { generator: gen, device }).sub(0.5).mul(scale))), { requiresGrad: true });
    const w1 = param([20, 32], 0.6), b1 = param([32], 0.1), w2 = param([32, 4], 0.6), b2 = param([4], 0.1);
    const params = [w1, b1, w2, b2];
    // A fixed batch with labels that depend on the inputs, so the loss can fall.
    const x = keep(tidy(() => rand([64, 20], { generator: gen, device }).sub(0.5)));
    const y = keep(tidy(() => x.narrow(1, 0, 4).argmax(1, true)));
    let lossSum: NDArray = keep(tidy(() => x.sum().mul(0)));
    const held: number[] = [];
    let firstLoss: NDArray | null = null;
    for (let step = 0; step < 300; step++) {
      tidy(() => {
        const h = A.tensor(x).matmul(w1).add(b1).relu();
        const logits = h.matmul(w2).add(b2);
        const loss = logits.logSoftmax(1).gather(1, y).neg().mean();
        loss.backward();
        for (const p of params) {
          p.assign(keep(p.value.sub(p.grad!.value.mul(0.5))));
          p.zeroGrad();
        }
        const next = keep(lossSum.add(loss.value));
        lossSum.dispose();
        lossSum = next;
        if (step === 0) firstLoss = keep(loss.value.clone());
      });
      held.push(gpu!.backend.memory().heldBytes);
    }
    const last = tidy(() => A.tensor(x).matmul(w1).add(b1).relu().matmul(w2).add(b2).logSoftmax(1).gather(1, y).neg().mean());
    const lastLoss = await last.item();
    last.dispose();
    const first = await firstLoss!.item();
    const total = await lossSum.item();
    const settled = held[10]!;
    const grew = held.findIndex((h, i) => i > 10 && h !== settled);
    if (grew >= 0) throw new Error(`the pool grew after step 10: ${settled} bytes at step 10, ${held[grew]} at step ${grew}`);
    if (!(lastLoss < first * 0.8)) throw new Error(`the loss did not fall: ${first} → ${lastLoss}`);
    if (!Number.isFinite(total)) throw new Error(`the accumulated loss is ${total}`);
    for (const a of [x, y, lossSum, firstLoss!]) a.dispose();
    for (const p of params) p.dispose();
  },
});

/**
 * The assignment's models on WebGPU: one training step (forward, cross-entropy, backward, SGD with momentum) from
 * the same weights and batch gives the same loss and the same updated weights as on the CPU, within float32
 * accuracy.
 */
import { tensor as autogradTensor } from "@backprop/autograd";
import { BatchNorm1d, ConvNet, crossEntropy, MLP, type Module, SGD } from "@backprop/nn";
import { Generator, type NDArray, rand, randint, tidy } from "@backprop/tensor";
import { gpu, noGpu } from "./setup.ts";

interface StepResult {
  loss: number;
  params: Map<string, Float32Array>;
}

async function trainStep(model: Module, x: NDArray, y: NDArray): Promise<StepResult> {
  const optimizer = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  model.train();
  const lossArray = tidy(() => {
    optimizer.zeroGrad();
    const loss = crossEntropy(model.forward(autogradTensor(x)), y);
    loss.backward();
    optimizer.step();
    return loss.value;
  });
  const loss = (await lossArray.data())[0]!;
  lossArray.dispose();
  optimizer.dispose();
  const params = new Map<string, Float32Array>();
  const named = model.namedParameters();
  const values = await Promise.all(named.map(([, p]) => p.value.data()));
  named.forEach(([name], i) => params.set(name, values[i] as Float32Array));
  return { loss, params };
}

/** Builds the model twice from one seed (CPU and GPU copies) and compares a training step on each. */
async function compareStep(build: () => Module, inputShape: number[], classes: number, tol: number): Promise<void> {
  const gen = new Generator(11);
  const x = rand(inputShape, { generator: gen }).sub(0.5);
  const y = randint(0, classes, [inputShape[0]!], { generator: gen });
  const cpuModel = build();
  const gpuModel = build().to("webgpu");
  const xg = x.to("webgpu"), yg = y.to("webgpu");
  try {
    const [cpu, dev] = [await trainStep(cpuModel, x, y), await trainStep(gpuModel, xg, yg)];
    if (!(Math.abs(cpu.loss - dev.loss) <= tol * Math.max(1, Math.abs(cpu.loss)))) {
      throw new Error(`loss differs: cpu ${cpu.loss}, webgpu ${dev.loss}`);
    }
    for (const [name, want] of cpu.params) {
      const got = dev.params.get(name)!;
      let scale = 0;
      for (const v of want) scale = Math.max(scale, Math.abs(v));
      for (let i = 0; i < want.length; i++) {
        if (!(Math.abs(got[i]! - want[i]!) <= tol * Math.max(scale, 1e-3))) {
          throw new Error(`${name}[${i}] after the step: cpu ${want[i]}, webgpu ${got[i]}`);
        }
      }
    }
  } finally {
    for (const a of [x, y, xg, yg]) a.dispose();
    cpuModel.dispose();
    gpuModel.dispose();
  }
}

Deno.test({
  name: "models: one MLP training step gives the same loss and weights on WebGPU and CPU",
  ignore: noGpu,
  fn: async () => {
    const before = gpu!.backend.memory().storages;
    await compareStep(() => new MLP(3072, [100, 50], 10, { generator: new Generator(5) }), [32, 3072], 10, 1e-4);
    const after = gpu!.backend.memory().storages;
    if (after !== before) throw new Error(`${after - before} GPU storages leaked by the MLP step`);
  },
});

Deno.test({
  name: "models: one ConvNet training step gives the same loss and weights on WebGPU and CPU",
  ignore: noGpu,
  fn: async () => {
    const before = gpu!.backend.memory().storages;
    await compareStep(() => new ConvNet(3, 10, { generator: new Generator(6) }), [4, 3, 32, 32], 10, 1e-3);
    const after = gpu!.backend.memory().storages;
    if (after !== before) throw new Error(`${after - before} GPU storages leaked by the ConvNet step`);
  },
});

Deno.test({
  name: "models: BatchNorm with momentum null (cumulative average) runs on WebGPU and matches the CPU",
  ignore: noGpu,
  fn: async () => {
    const gen = new Generator(12);
    const batches = [0, 1, 2].map(() => rand([16, 5], { generator: gen }).mul(3));
    const cpu = new BatchNorm1d(5, { momentum: null });
    const dev = new BatchNorm1d(5, { momentum: null }).to("webgpu");
    const before = gpu!.backend.memory().storages;
    for (const b of batches) {
      const bg = b.to("webgpu");
      tidy(() => {
        cpu.forward(autogradTensor(b));
        dev.forward(autogradTensor(bg));
      });
      bg.dispose();
    }
    const after = gpu!.backend.memory().storages;
    if (after !== before) throw new Error(`${after - before} GPU storages leaked by three batch-norm steps`);
    for (const name of ["running_mean", "running_var"]) {
      const [want, got] = [await cpu.getBuffer(name).data(), await dev.getBuffer(name).data()];
      for (let i = 0; i < want.length; i++) {
        if (!(Math.abs(Number(got[i]) - Number(want[i])) <= 1e-5 * Math.max(1, Math.abs(Number(want[i]))))) {
          throw new Error(`${name}[${i}]: cpu ${want[i]}, webgpu ${got[i]}`);
        }
      }
    }
    const count = (await dev.getBuffer("num_batches_tracked").data())[0];
    if (count !== 3) throw new Error(`num_batches_tracked is ${count} on WebGPU, expected 3`);
    for (const b of batches) b.dispose();
    cpu.dispose();
    dev.dispose();
  },
});

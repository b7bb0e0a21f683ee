/**
 * Dispatch budget of one ConvNet training step with Adam at batch 4 (the count `bench/gpu_dispatches.ts` prints):
 * it counts kernels recorded, not time, so it is the same on the software adapter as on a GPU, and a change that
 * brings back dispatches the deferral or fusion removed fails here.
 */
import { Tensor } from "@backprop/autograd";
import { Adam, ConvNet, crossEntropy } from "@backprop/nn";
import { Generator, randint, randn, tidy } from "@backprop/tensor";
import { diffStats } from "../src/mod.ts";
import { gpu, noGpu } from "./setup.ts";

/**
 * Dispatches per step measured when the budget was set (the average of the two steps counted here; the
 * benchmark's three-step average is the same), by the storage bindings the device allows one kernel (16 on
 * lavapipe, as `initWebGPU` asks; WebGPU's default 8 keeps a batch norm's backward pass and two optimizer
 * updates from sharing a kernel), and the margin allowed above it. Before split-K sums in the consumer, grouped
 * reductions, int32 folding, the retention rule for recent temporaries and batched optimizer updates: 186.
 */
const MEASURED_BY_BINDINGS: [number, number][] = [[16, 120], [8, 158]];
const bindings = gpu?.limits.maxStorageBuffersPerShaderStage ?? 8;
const MEASURED = MEASURED_BY_BINDINGS.find(([b]) => bindings >= b)![1];
const BUDGET = Math.floor(MEASURED * 1.03);
/** Op by op the same step takes 422: the deferred step must stay at least this many times fewer. */
const OP_BY_OP = 422;

Deno.test({
  name: "webgpu dispatches: a ConvNet Adam step at batch 4 stays within its dispatch budget",
  ignore: noGpu,
  fn: async () => {
    const backend = gpu!.backend;
    const g = new Generator(7);
    const model = new ConvNet(3, 10, { generator: g, device: "webgpu" });
    model.train();
    const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
    const x = randn([4, 3, 32, 32], { generator: g, device: "webgpu" });
    const y = randint(0, 10, [4], { generator: g, device: "webgpu" });
    const step = () =>
      tidy(() => {
        optimizer.zeroGrad();
        crossEntropy(model.forward(new Tensor(x)), y).backward();
        optimizer.step();
      });
    try {
      // The first step creates the optimizer's state; deferred work may run a step later (running statistics),
      // so the count is the average of two steady steps.
      step();
      await backend.sync();
      const before = backend.stats();
      step();
      step();
      backend.flush();
      const perStep = diffStats(backend.stats(), before).dispatches / 2;
      await backend.sync();
      if (perStep > BUDGET) {
        throw new Error(
          `${perStep} dispatches per step, over the budget of ${BUDGET} (measured ${MEASURED} with ${bindings} storage bindings, op by op ${OP_BY_OP})`,
        );
      }
    } finally {
      for (const a of [x, y]) a.dispose();
      optimizer.dispose();
      model.dispose();
    }
  },
});

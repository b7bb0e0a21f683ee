// Kernel dispatches of one WebGPU ConvNet training step (forward, cross-entropy, backward, Adam), by kernel
// family: the launch overhead a real GPU pays per step, whatever the adapter's speed. It counts what is recorded,
// so the software adapter gives the same numbers as a real GPU (time is not measured).
//
//   deno run -A bench/gpu_dispatches.ts --batch 32
//   options: --batch N (default 32)  --steps K (counted steps, default 3)  --json file
//
// Each mode runs one step first (the optimizer's state is created then), then counts K more and prints the
// counts per step. Deferred work runs when its result is needed, sometimes steps later (the running statistics
// of batch norm), or never; the averages over K steps include what ran during them.
import { Tensor } from "@backprop/autograd";
import { diffStats, GpuUnavailableError, type GpuStats, initWebGPU, type WebGPUInfo } from "@backprop/gpu";
import { Adam, ConvNet, crossEntropy } from "@backprop/nn";
import { Generator, randint, randn, tidy } from "@backprop/tensor";

const argv: string[] = (globalThis as { Deno?: { args: string[] } }).Deno?.args ?? [];
const flag = (name: string, fallback: string) => {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 && argv[at + 1] ? argv[at + 1]! : fallback;
};
const batch = Number(flag("batch", "32"));
const steps = Number(flag("steps", "3"));
const jsonOut = flag("json", "");

let gpu: WebGPUInfo;
try {
  gpu = await initWebGPU();
} catch (e) {
  if (e instanceof GpuUnavailableError) {
    console.log(`no WebGPU adapter: ${e.message}`);
    Deno.exit(0);
  }
  throw e;
}
const backend = gpu.backend;
console.log(`adapter: ${gpu.adapter.description || gpu.adapter.device || "unknown"}; ConvNet, Adam, batch ${batch}`);

/** The stats of `steps` training steps, after one uncounted step, with deferral on or off. */
async function countStep(deferral: boolean): Promise<GpuStats> {
  backend.deferral = deferral;
  const g = new Generator(7);
  const model = new ConvNet(3, 10, { generator: g, device: "webgpu" });
  model.train();
  const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
  const x = randn([batch, 3, 32, 32], { generator: g, device: "webgpu" });
  const y = randint(0, 10, [batch], { generator: g, device: "webgpu" });
  const step = () =>
    tidy(() => {
      optimizer.zeroGrad();
      crossEntropy(model.forward(new Tensor(x)), y).backward();
      optimizer.step();
    });
  step();
  await backend.sync();
  const before = backend.stats();
  for (let i = 0; i < steps; i++) step();
  backend.flush();
  const counted = diffStats(backend.stats(), before);
  await backend.sync();
  for (const a of [x, y]) a.dispose();
  optimizer.dispose();
  model.dispose();
  return counted;
}

const opByOp = await countStep(false);
const deferred = await countStep(true);
backend.deferral = true;

const perStep = (n: number) => (Number.isInteger(n / steps) ? String(n / steps) : (n / steps).toFixed(1));
console.log(`counts per step (average of ${steps} steps)`);
const families = [...new Set([...Object.keys(opByOp.byKernel), ...Object.keys(deferred.byKernel)])]
  .sort((a, b) => (opByOp.byKernel[b] ?? 0) - (opByOp.byKernel[a] ?? 0) || a.localeCompare(b));
console.log("\n| kernel | op by op | deferred |\n| --- | ---: | ---: |");
for (const f of families) console.log(`| ${f} | ${perStep(opByOp.byKernel[f] ?? 0)} | ${perStep(deferred.byKernel[f] ?? 0)} |`);
const ratio = opByOp.dispatches / Math.max(1, deferred.dispatches);
console.log(`| **dispatches** | **${perStep(opByOp.dispatches)}** | **${perStep(deferred.dispatches)}** (${ratio.toFixed(2)}× fewer) |`);
const fields = ["bufferCopies", "uploads", "submissions", "reads", "buffersCreated", "deferred", "deferredRuns", "deferredDropped"] as const;
for (const k of fields) console.log(`| ${k} | ${perStep(opByOp[k])} | ${perStep(deferred[k])} |`);
if (jsonOut) await Deno.writeTextFile(jsonOut, JSON.stringify({ batch, steps, opByOp, deferred, ratio }, null, 2));

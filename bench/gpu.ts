// The WebGPU backend on a real GPU, in one run of a few minutes: checks against the CPU (kernels and one training
// step of each model), float32 matmul GFLOP/s from 1024³ to 4096³, one ConvNet training step (SGD, momentum) at
// batch 32 and 128, and ConvNet evaluation images/s. Prints a Markdown table last.
//
//   deno run -A bench/gpu.ts                 # on a machine with a GPU (Vulkan/Metal/D3D12 through Deno's WebGPU)
//   deno run -A bench/gpu.ts --quick         # small sizes: a smoke run on a software adapter
//   options: --sizes 1024,2048,4096  --batches 32,128  --eval-batch 500  --seconds 1.5  --json results.json
//
// Timings: work is recorded, then `backend.sync()` waits for the GPU; each figure is the best of three timed
// rounds of enough repetitions to fill `--seconds` (Deno spends about 10 ms per wait, so rounds are long).
import { noGrad, tensor as autogradTensor } from "@backprop/autograd";
import { GpuUnavailableError, initWebGPU, type WebGPUInfo } from "@backprop/gpu";
import { ConvNet, crossEntropy, MLP, type Module, SGD } from "@backprop/nn";
import {
  conv2d,
  conv2dBackwardInput,
  conv2dBackwardWeight,
  Generator,
  type NDArray,
  rand,
  randint,
  softmax,
  tidy,
} from "@backprop/tensor";

const argv: string[] = (globalThis as { Deno?: { args: string[] } }).Deno?.args ?? [];
const flag = (name: string, fallback: string) => {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 && argv[at + 1] ? argv[at + 1]! : fallback;
};
const quick = argv.includes("--quick");
const sizes = flag("sizes", quick ? "256,512" : "1024,2048,4096").split(",").map(Number);
const batches = flag("batches", quick ? "4" : "32,128").split(",").map(Number);
const evalBatch = Number(flag("eval-batch", quick ? "8" : "500"));
const seconds = Number(flag("seconds", quick ? "0.5" : "1.5"));
const jsonOut = flag("json", "");

const rows: [string, string][] = [];
const results: Record<string, unknown> = {};
let failures = 0;

function log(line: string): void {
  console.log(line);
}

/** Best time per repetition (ms) of `run` over three rounds, each long enough to fill `seconds`. */
async function timeIt(gpu: WebGPUInfo, run: () => void): Promise<number> {
  run();
  await gpu.backend.sync();
  const t0 = performance.now();
  run();
  await gpu.backend.sync();
  const once = performance.now() - t0;
  const reps = Math.max(1, Math.ceil((seconds * 1000) / Math.max(once, 0.05)));
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const start = performance.now();
    for (let i = 0; i < reps; i++) run();
    await gpu.backend.sync();
    best = Math.min(best, (performance.now() - start) / reps);
  }
  return best;
}

function maxRelError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let scale = 0, worst = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / Math.max(scale, 1e-30));
  return worst;
}

async function check(name: string, make: (device: string) => NDArray, tol: number): Promise<void> {
  const cpu = tidy(() => make("cpu"));
  const dev = tidy(() => make("webgpu"));
  const err = maxRelError(await dev.data(), cpu.dataSync());
  cpu.dispose();
  dev.dispose();
  const ok = err <= tol;
  if (!ok) failures++;
  log(`  ${ok ? "ok  " : "FAIL"} ${name}: max error ${err.toExponential(2)} of the largest value (allowed ${tol})`);
  results[`check ${name}`] = err;
}

// Uniform numbers are bit-identical on both devices, so both sides compute from the same inputs.
const uniform = (shape: number[], seed: number, device: string) =>
  rand(shape, { generator: new Generator(seed), device }).sub(0.5).mul(2);

async function trainStepLoss(model: Module, x: NDArray, y: NDArray): Promise<number> {
  const optimizer = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  model.train();
  const loss = tidy(() => {
    optimizer.zeroGrad();
    const l = crossEntropy(model.forward(autogradTensor(x)), y);
    l.backward();
    optimizer.step();
    return l.value;
  });
  const value = (await loss.data())[0]!;
  loss.dispose();
  optimizer.dispose();
  return value;
}

async function checkModel(name: string, build: () => Module, shape: number[]): Promise<void> {
  const gen = new Generator(1);
  const x = rand(shape, { generator: gen }).sub(0.5), y = randint(0, 10, [shape[0]!], { generator: gen });
  const cpuModel = build(), gpuModel = build().to("webgpu");
  const xg = x.to("webgpu"), yg = y.to("webgpu");
  const cpu = await trainStepLoss(cpuModel, x, y);
  const dev = await trainStepLoss(gpuModel, xg, yg);
  for (const a of [x, y, xg, yg]) a.dispose();
  cpuModel.dispose();
  gpuModel.dispose();
  const err = Math.abs(cpu - dev) / Math.max(1, Math.abs(cpu));
  const ok = err <= 1e-3;
  if (!ok) failures++;
  log(`  ${ok ? "ok  " : "FAIL"} ${name} training step loss: cpu ${cpu.toFixed(6)}, webgpu ${dev.toFixed(6)}`);
  results[`check ${name} step`] = { cpu, webgpu: dev };
}

async function section(name: string, body: () => Promise<void>): Promise<void> {
  log(`\n## ${name}`);
  try {
    await body();
  } catch (e) {
    failures++;
    log(`  FAIL ${name}: ${(e as Error)?.stack ?? e}`);
    rows.push([name, "failed"]);
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  let gpu: WebGPUInfo;
  try {
    gpu = await initWebGPU({ powerPreference: "high-performance" });
  } catch (e) {
    if (e instanceof GpuUnavailableError) {
      console.log(`no GPU: ${e.message}`);
      return;
    }
    throw e;
  }
  const { adapter, limits } = gpu;
  const card = adapter.description || `${adapter.vendor} ${adapter.device}`.trim() || "unknown adapter";
  log(`# WebGPU bench on ${card}${adapter.isFallbackAdapter ? " (software fallback adapter)" : ""}`);
  log(`adapter: ${JSON.stringify(adapter)}`);
  log(`limits: ${JSON.stringify(limits)}`);
  rows.push(["adapter", card]);
  results.adapter = adapter;
  results.limits = limits;

  await section("checks against the CPU", async () => {
    await check("matmul 300×500×200", (d) => uniform([300, 500], 1, d).matmul(uniform([500, 200], 2, d)), 1e-5);
    await check("matmul transposed, batched", (d) => uniform([4, 64, 96], 3, d).transpose(1, 2).matmul(uniform([4, 64, 48], 4, d)), 1e-5);
    const x = (d: string) => uniform([8, 32, 16, 16], 5, d), w = (d: string) => uniform([64, 32, 3, 3], 6, d);
    const g = (d: string) => uniform([8, 64, 16, 16], 7, d);
    await check("conv2d forward", (d) => conv2d(x(d), w(d), null, { padding: 1 }), 1e-5);
    await check("conv2d input gradient", (d) => conv2dBackwardInput(g(d), w(d), [8, 32, 16, 16], { padding: 1 }), 1e-5);
    await check("conv2d weight gradient", (d) => conv2dBackwardWeight(x(d), g(d), [64, 32, 3, 3], { padding: 1 }), 1e-5);
    await check("softmax", (d) => softmax(uniform([64, 1000], 8, d).mul(10), 1), 1e-5);
    await check("sum of 10⁶", (d) => uniform([1000000], 9, d).sum(), 1e-5);
    await check("rand (bit-exact)", (d) => rand([4096], { generator: new Generator(10), device: d }), 0);
    await checkModel("MLP 3072-100-10", () => new MLP(3072, [100], 10, { generator: new Generator(2) }), [64, 3072]);
    await checkModel("ConvNet", () => new ConvNet(3, 10, { generator: new Generator(3) }), [quick ? 2 : 8, 3, 32, 32]);
  });

  await section("matmul (float32)", async () => {
    for (const n of sizes) {
      const a = uniform([n, n], 11, "webgpu"), b = uniform([n, n], 12, "webgpu");
      const ms = await timeIt(gpu, () => a.matmul(b).dispose());
      a.dispose();
      b.dispose();
      const gflops = (2 * n ** 3) / (ms * 1e6);
      log(`  ${n}³: ${ms.toFixed(3)} ms, ${gflops.toFixed(0)} GFLOP/s`);
      rows.push([`matmul ${n}³`, `${gflops.toFixed(0)} GFLOP/s (${ms.toFixed(2)} ms)`]);
      results[`matmul ${n}`] = { ms, gflops };
    }
  });

  await section("ConvNet training step (SGD, momentum 0.9, batch norm in training mode)", async () => {
    for (const batch of batches) {
      const model = new ConvNet(3, 10, { generator: new Generator(4), device: "webgpu" });
      const optimizer = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
      model.train();
      const x = uniform([batch, 3, 32, 32], 13, "webgpu");
      const y = randint(0, 10, [batch], { generator: new Generator(14), device: "webgpu" });
      const before = gpu.backend.memory().heldBytes;
      const ms = await timeIt(gpu, () =>
        tidy(() => {
          optimizer.zeroGrad();
          crossEntropy(model.forward(autogradTensor(x)), y).backward();
          optimizer.step();
        })
      );
      const held = gpu.backend.memory().heldBytes;
      for (const a of [x, y]) a.dispose();
      optimizer.dispose();
      model.dispose();
      log(`  batch ${batch}: ${ms.toFixed(1)} ms/step, ${(batch / ms * 1000).toFixed(0)} images/s; pool ${(held / 2 ** 20).toFixed(0)} MiB (${(before / 2 ** 20).toFixed(0)} MiB before)`);
      rows.push([`ConvNet train step, batch ${batch}`, `${ms.toFixed(1)} ms`]);
      results[`convnet step ${batch}`] = { ms, heldBytes: held };
    }
  });

  await section("ConvNet evaluation", async () => {
    const model = new ConvNet(3, 10, { generator: new Generator(5), device: "webgpu" });
    model.eval();
    const x = uniform([evalBatch, 3, 32, 32], 15, "webgpu");
    const ms = await timeIt(gpu, () => tidy(() => noGrad(() => model.forward(autogradTensor(x)).value.argmax(1))).dispose());
    x.dispose();
    model.dispose();
    const ips = (evalBatch / ms) * 1000;
    log(`  batch ${evalBatch}: ${ms.toFixed(1)} ms, ${ips.toFixed(0)} images/s`);
    rows.push([`ConvNet eval, batch ${evalBatch}`, `${ips.toFixed(0)} images/s`]);
    results.eval = { batch: evalBatch, ms, imagesPerSecond: ips };
  });

  const total = (performance.now() - started) / 1000;
  results.seconds = total;
  results.failures = failures;
  results.pipelines = gpu.backend.pipelinesCompiled;
  if (jsonOut) await (globalThis as unknown as { Deno: { writeTextFile(p: string, s: string): Promise<void> } }).Deno.writeTextFile(jsonOut, JSON.stringify(results, null, 2));
  log(`\n## Summary (${total.toFixed(0)} s, ${failures === 0 ? "all checks passed" : `${failures} FAILED`})\n`);
  log("| what | result |");
  log("| --- | --- |");
  for (const [k, v] of rows) log(`| ${k} | ${v} |`);
  if (failures > 0) (globalThis as unknown as { Deno: { exit(c: number): never } }).Deno.exit(1);
}

await main();

// The MLP training step (batch 200, 3072-100-10, SGD) with the linear layers' bias (and the manual MLP's ReLU)
// added in the GEMM epilogue against the same step with the CPU backend's `matmulBias` removed, so that
// `matmulBias` composes matmul, add and relu: the autograd MLP (bench/main.ts's W1) and the manual MLP (the
// `train mlp-manual` step), interleaved round by round in one process. Prints a Markdown table of wall time and
// of the process's CPU time per step (with --threads 1 the CPU time depends little on other users' load).
//
//   deno run -A packages/nn/bench/linear_epilogue.ts [--rounds 15] [--threads 1]
import process from "node:process";
import { Tensor } from "@backprop/autograd";
import { CrossEntropyModule, crossEntropy, ManualMLP, MLP, SGD } from "@backprop/nn";
import { Generator, getBackend, randint, randn, setNumThreads, tidy } from "@backprop/tensor";

const argv = (globalThis as { Deno?: { args: string[] } }).Deno?.args ?? [];
const at = argv.indexOf("--rounds");
const rounds = at >= 0 ? Number(argv[at + 1]) : 15;
const threadsAt = argv.indexOf("--threads");
if (threadsAt >= 0) setNumThreads(Number(argv[threadsAt + 1]));
const BURST_MS = 100;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const load = async () => {
  try {
    return (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  } catch {
    return "unknown";
  }
};

const backend = getBackend("cpu");
const epilogue = backend.matmulBias;

const g = new Generator(1);
const x = randn([200, 3072], { generator: g }).keep();
const y = randint(0, 10, [200], { generator: g }).keep();

const autograd = new MLP(3072, [100], 10, { generator: new Generator(2) });
const opt = new SGD(autograd.parameters(), { lr: 1e-3 });
const autogradStep = () =>
  tidy(() => {
    opt.zeroGrad();
    crossEntropy(autograd.forward(new Tensor(x)), y).backward();
    opt.step();
  });

const manual = new ManualMLP(3072, [100], 10, { generator: new Generator(3) });
const ce = new CrossEntropyModule();
const manualStep = () =>
  tidy(() => {
    const probs = manual.forward(x);
    ce.forward(probs, y);
    manual.backward(ce.backward(probs, y), { inputGrad: false });
    manual.sgdStep(1e-3);
    manual.clearCache();
  });

const workloads: [string, () => void][] = [["autograd MLP step (W1)", autogradStep], ["manual MLP step", manualStep]];
const variants: [string, boolean][] = [["epilogue", true], ["composed", false]];

/** Wall and CPU milliseconds per run of a burst of back-to-back runs lasting about BURST_MS. */
function burst(run: () => void, withEpilogue: boolean): [number, number] {
  backend.matmulBias = withEpilogue ? epilogue : undefined;
  try {
    let n = 0;
    const t0 = performance.now(), c0 = process.cpuUsage();
    while (performance.now() - t0 < BURST_MS) {
      run();
      n++;
    }
    const cpu = process.cpuUsage(c0);
    return [(performance.now() - t0) / n, (cpu.user + cpu.system) / 1000 / n];
  } finally {
    backend.matmulBias = epilogue;
  }
}

const before = await load();
for (const [, run] of workloads) for (const [, on] of variants) burst(run, on);
const times = new Map<string, [number, number][]>();
for (let r = 0; r < rounds; r++) {
  for (const [w, run] of workloads) {
    for (const [v, on] of variants) {
      const key = `${w}/${v}`;
      if (!times.has(key)) times.set(key, []);
      times.get(key)!.push(burst(run, on));
    }
  }
}
console.log(
  `${threadsAt >= 0 ? argv[threadsAt + 1] : "default"} threads; median of ${rounds} interleaved rounds (bursts of ${BURST_MS} ms); ` +
    `load average before ${before}, after ${await load()}\n`,
);
console.log("| step | epilogue ms | composed ms | composed / epilogue | epilogue CPU ms | composed CPU ms | composed / epilogue |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const [w] of workloads) {
  const cols = [0, 1].flatMap((i) => {
    const on = median(times.get(`${w}/epilogue`)!.map((t) => t[i]!)), off = median(times.get(`${w}/composed`)!.map((t) => t[i]!));
    return [on.toFixed(3), off.toFixed(3), `${(off / on).toFixed(2)}×`];
  });
  console.log(`| ${w} | ${cols.join(" | ")} |`);
}

// Where the W1 training step's time goes (MLP 3072-100-10, batch 200, SGD): the whole step next to its parts, each
// timed as its own loop and all alternated burst by burst in one process, so a change in machine load hits every
// row alike. The two large products are timed alone on the step's shapes; what the step spends outside them is
// the step minus the two. The same step with 8 input features instead of 3072 keeps every op but makes the
// products tiny: what is left is the cost of the ops themselves (dispatch, autograd, tidy, small passes).
//
//   deno run -A bench/w1_breakdown.ts [--bursts 9]
//   deno run -A bench/w1_breakdown.ts --loop 4    (only the step, 1.5 s untimed then 4 s: for a profiler, e.g.
//     perf record -F 2000 -g deno run -A --v8-flags=--perf-basic-prof bench/w1_breakdown.ts --loop 4)
import { Tensor } from "@backprop/autograd";
import { crossEntropy, MLP, SGD } from "@backprop/nn";
import { sgdUpdate } from "../packages/nn/src/optim/fused_updates.ts";
import { fused, Generator, keep, matmul, type NDArray, randint, randn, tidy } from "@backprop/tensor";
import { medianBurst } from "./burst.ts";

const option = (name: string, fallback: number) => {
  const at = Deno.args.indexOf(`--${name}`);
  return at >= 0 ? Number(Deno.args[at + 1]) : fallback;
};
const bursts = option("bursts", 9);
const loopSeconds = option("loop", 0);
const g = new Generator(1);

/** One W1-like training step on `features` inputs, as bench/backprop.ts writes it. */
function mlpStep(features: number): { step: () => void; forwardBackward: () => void; forward: () => void } {
  const model = new MLP(features, [100], 10, { generator: g });
  const opt = new SGD(model.parameters(), { lr: 1e-3 });
  const x = randn([200, features], { generator: g }).keep();
  const y = randint(0, 10, [200], { generator: g }).keep();
  const loss = () => crossEntropy(model.forward(new Tensor(x)), y);
  return {
    step: () => tidy(() => (opt.zeroGrad(), loss().backward(), opt.step())),
    forwardBackward: () => tidy(() => (opt.zeroGrad(), loss().backward())),
    forward: () => tidy(() => void (opt.zeroGrad(), loss())),
  };
}

const w1 = mlpStep(3072);
if (loopSeconds > 0) {
  medianBurst(w1.step, 1500); // the steady state (see bench/main.ts)
  const start = performance.now();
  let steps = 0;
  while (performance.now() - start < loopSeconds * 1000) w1.step(), steps++;
  console.log(`W1 step: ${((performance.now() - start) / steps).toFixed(3)} ms per step over ${steps} steps`);
  Deno.exit(0);
}
const small = mlpStep(8);
const x = randn([200, 3072], { generator: g }).keep();
const weight = randn([100, 3072], { generator: g }).keep();
const dout = randn([200, 100], { generator: g }).keep();
let theta: NDArray = randn([100, 3072], { generator: g }).keep();
const grad = randn([100, 3072], { generator: g }).keep();
const plainSgd = sgdUpdate({ decay: false, momentum: false, buffer: false, nesterov: false });

const rows: [string, () => void][] = [
  ["W1 step (forward, backward, SGD)", w1.step],
  ["forward and backward, no update", w1.forwardBackward],
  ["forward and loss only", w1.forward],
  ["x·W1ᵀ alone (200×100 over k = 3072)", () => tidy(() => void matmul(x, weight.T))],
  ["doutᵀ·x alone (100×3072 over k = 200)", () => tidy(() => void matmul(dout.T, x))],
  ["W1's SGD update alone (one fused pass, 307,200 elements)", () => {
    const [next] = fused(plainSgd, [theta, grad], [0, 0, 1, 1e-3]);
    keep(next!);
    theta.dispose();
    theta = next!;
  }],
  ["the same step on 8 input features (the ops, tiny products)", small.step],
];


for (const [, run] of rows) medianBurst(run, 1500); // the steady state of each loop (see bench/main.ts)
const samples = rows.map(() => [] as number[]);
for (let r = 0; r < bursts; r++) rows.forEach(([, run], i) => samples[i]!.push(medianBurst(run, 200)));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const medians = samples.map(median);

console.log(`W1 step and its parts, ${bursts} alternated bursts of 200 ms; load ${Deno.loadavg().map((v) => v.toFixed(2)).join(" ")}\n`);
console.log("| part | median ms | fastest | slowest | share of the step |\n| --- | ---: | ---: | ---: | ---: |");
rows.forEach(([name], i) => {
  const s = [...samples[i]!].sort((a, b) => a - b);
  console.log(
    `| ${name} | ${medians[i]!.toFixed(3)} | ${s[0]!.toFixed(3)} | ${s[s.length - 1]!.toFixed(3)} | ${(100 * medians[i]! / medians[0]!).toFixed(0)} % |`,
  );
});
const outside = medians[0]! - medians[3]! - medians[4]!;
console.log(`\n- the step outside its two large products: ${outside.toFixed(3)} ms (${(100 * outside / medians[0]!).toFixed(0)} %)`);
Deno.exit(0);

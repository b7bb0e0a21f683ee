// The W1 training step (MLP 3072-100-10, batch 200, SGD) with its fused weight update split over the threads or kept
// on the calling thread, alternated per burst in one process. The split is decided by the update's size against
// FUSED_PARALLEL_MIN_ELEMENTS; this script moves that bound around the update's 307,200 elements. Run it once as is
// and once while another process keeps a core busy (for instance `deno eval` of a loop busy 2 ms in every 4).
//
//   deno run -A bench/w1_update_split.ts [--bursts 11]
import { Tensor } from "@backprop/autograd";
import { crossEntropy, MLP, SGD } from "@backprop/nn";
import { Generator, randint, randn, tidy } from "@backprop/tensor";
import { setFusedParallelMinElements } from "../packages/tensor/src/cpu/wasm/runtime.ts";
import { medianBurst } from "./burst.ts";

const at = Deno.args.indexOf("--bursts");
const bursts = at >= 0 ? Number(Deno.args[at + 1]) : 11;
const g = new Generator(1);
const model = new MLP(3072, [100], 10, { generator: g });
const opt = new SGD(model.parameters(), { lr: 1e-3 });
const x = randn([200, 3072], { generator: g }).keep();
const y = randint(0, 10, [200], { generator: g }).keep();
const step = () =>
  tidy(() => {
    opt.zeroGrad();
    crossEntropy(model.forward(new Tensor(x)), y).backward();
    opt.step();
  });


const modes = [["update split over the threads", 1 << 17], ["update on the calling thread", 1 << 20]] as const;
for (const [, bound] of modes) {
  setFusedParallelMinElements(bound);
  medianBurst(step, 1500); // the steady state of the step (see bench/main.ts)
}
const samples = modes.map(() => [] as number[]);
for (let r = 0; r < bursts; r++) {
  modes.forEach(([, bound], i) => {
    setFusedParallelMinElements(bound);
    samples[i]!.push(medianBurst(step, 200));
  });
}
console.log(`W1 step, ${bursts} alternated bursts of 200 ms; load ${Deno.loadavg().map((v) => v.toFixed(2)).join(" ")}\n`);
console.log("| weight update | median ms | fastest | slowest |\n| --- | ---: | ---: | ---: |");
modes.forEach(([name], i) => {
  const s = [...samples[i]!].sort((a, b) => a - b);
  console.log(`| ${name} | ${s[s.length >> 1]!.toFixed(3)} | ${s[0]!.toFixed(3)} | ${s[s.length - 1]!.toFixed(3)} |`);
});
Deno.exit(0);

import { Tensor } from "@backprop/autograd";
import { crossEntropy, MLP, SGD } from "@backprop/nn";
import { Generator, randint, randn, tidy } from "@backprop/tensor";
const g = new Generator(1);
const model = new MLP(3072, [100], 10, { generator: g });
const opt = new SGD(model.parameters(), { lr: 1e-3 });
const x = randn([200, 3072], { generator: g }).keep();
const y = randint(0, 10, [200], { generator: g }).keep();
const acc = { zero: 0, fwd: 0, bwd: 0, step: 0, tidy: 0 };
for (let r = 0; r < 300; r++) {
  const t0 = performance.now();
  let t1 = 0, t2 = 0, t3 = 0, t4 = 0;
  tidy(() => {
    opt.zeroGrad(); t1 = performance.now();
    const l = crossEntropy(model.forward(new Tensor(x)), y); t2 = performance.now();
    l.backward(); t3 = performance.now();
    opt.step(); t4 = performance.now();
  });
  const t5 = performance.now();
  if (r >= 50) { acc.zero += t1 - t0; acc.fwd += t2 - t1; acc.bwd += t3 - t2; acc.step += t4 - t3; acc.tidy += t5 - t4; }
}
for (const [k, v] of Object.entries(acc)) console.log(k, (v / 250).toFixed(3));
console.log(await Deno.readTextFile("/proc/loadavg"));

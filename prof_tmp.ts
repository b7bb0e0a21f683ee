import { Tensor } from "@backprop/autograd";
import { crossEntropy, MLP, SGD } from "@backprop/nn";
import { Generator, randint, randn, tidy, matmul, matmulBias } from "@backprop/tensor";
const g = new Generator(1);
const model = new MLP(3072, [100], 10, { generator: g });
const opt = new SGD(model.parameters(), { lr: 1e-3 });
const x = randn([200, 3072], { generator: g }).keep();
const y = randint(0, 10, [200], { generator: g }).keep();
const w = randn([100, 3072], { generator: g }).keep(), b = randn([100], {generator: g}).keep();
const d = randn([200, 100], { generator: g }).keep();
const step = () => tidy(() => { opt.zeroGrad(); crossEntropy(model.forward(new Tensor(x)), y).backward(); opt.step(); });
const fwd = () => tidy(() => { crossEntropy(model.forward(new Tensor(x)), y); });
const mm = () => tidy(() => void matmulBias(x, w.T, b));
const dw = () => tidy(() => void matmul(d.T, x));
const fns: [string, () => void][] = [["step", step], ["fwd+loss (graph)", fwd], ["x·Wᵀ+b", mm], ["dW1", dw]];
const times = new Map<string, number[]>();
for (const [, f] of fns) for (let i = 0; i < 5; i++) f();
for (let r = 0; r < 15; r++) for (const [name, f] of fns) {
  const t0 = performance.now(); for (let i = 0; i < 10; i++) f(); const t = (performance.now() - t0) / 10;
  (times.get(name) ?? times.set(name, []).get(name)!).push(t);
}
const med = (a: number[]) => a.sort((p, q) => p - q)[a.length >> 1];
for (const [name] of fns) console.log(name, med(times.get(name)!)!.toFixed(3), "ms");
console.log(await Deno.readTextFile("/proc/loadavg"));

// Where a ConvNet training step spends its time, per CPU-backend kernel: every Backend method is wrapped in
// a timer (outermost calls only), and the table lists time per step, calls per step and, for elementwise
// kernels, elements and ns per element (fused passes grouped by their input and output counts). For the WebAssembly functions themselves, run with
// `--cpu-prof` (the kernels carry names) instead.
//
//   deno run -A bench/profile_convnet.ts [batch=32] [steps=7]
import { Tensor } from "@backprop/autograd";
import { Adam, ConvNet, crossEntropy } from "@backprop/nn";
import { cpuBackend, Generator, randint, randn, tidy } from "@backprop/tensor";

const batch = Number(Deno.args[0] ?? 32);
const steps = Number(Deno.args[1] ?? 7);
const g = new Generator(1);
const model = new ConvNet(3, 10, { generator: g });
const opt = new Adam(model.parameters(), { lr: 1e-3 });
const x = randn([batch, 3, 32, 32], { generator: g }).keep();
const y = randint(0, 10, [batch], { generator: g }).keep();

const time = new Map<string, { ms: number; calls: number; elements: number }>();
const backend = cpuBackend as unknown as Record<string, (...a: unknown[]) => unknown>;
const proto = Object.getPrototypeOf(cpuBackend) as Record<string, unknown>;
const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
let depth = 0;
for (const name of Object.getOwnPropertyNames(proto)) {
  const f = proto[name];
  if (name === "constructor" || typeof f !== "function") continue;
  backend[name] = function (this: unknown, ...a: unknown[]) {
    if (depth > 0) return f.apply(this, a);
    depth++;
    const t = performance.now();
    try {
      return f.apply(this, a);
    } finally {
      depth--;
      const op = name === "binary" || name === "unary" || name === "reduce"
        ? `${name}:${a[0]}`
        : name === "fused"
        ? `fused:${(a[1] as unknown[]).length} in, ${(a[0] as { outputs: unknown[] }).outputs.length} out`
        : name;
      const elements = name === "binary"
        ? sizeOf(a[3] as number[])
        : name === "unary"
        ? sizeOf((a[1] as { shape: number[] }).shape)
        : name === "copy"
        ? sizeOf((a[0] as { shape: number[] }).shape)
        : name === "fused"
        ? sizeOf(a[2] as number[])
        : name === "reduce"
        ? (a[2] as number) * (a[3] as number)
        : 0;
      const e = time.get(op) ?? { ms: 0, calls: 0, elements: 0 };
      e.ms += performance.now() - t;
      e.calls++;
      e.elements += elements;
      time.set(op, e);
    }
  };
}

const step = () =>
  tidy(() => {
    model.train();
    opt.zeroGrad();
    crossEntropy(model.forward(new Tensor(x)), y).backward();
    opt.step();
  });
step();
step();
time.clear();
const stepTimes: number[] = [];
for (let i = 0; i < steps; i++) {
  const t = performance.now();
  step();
  stepTimes.push(performance.now() - t);
}
stepTimes.sort((a, b) => a - b);
const load = await Deno.readTextFile("/proc/loadavg").then((s) => s.split(" ").slice(0, 3).join(" "), () => "?");
console.log(`ConvNet step, batch ${batch}: median ${stepTimes[stepTimes.length >> 1]!.toFixed(0)} ms over ${steps} steps (load ${load})\n`);
console.log("| kernel | ms / step | calls / step | M elements / step | ns / element |");
console.log("| --- | ---: | ---: | ---: | ---: |");
for (const [op, e] of [...time].sort((a, b) => b[1].ms - a[1].ms)) {
  if (e.ms / steps < 0.5) continue;
  const per = e.elements ? ((e.ms * 1e6) / e.elements).toFixed(2) : "";
  console.log(`| ${op} | ${(e.ms / steps).toFixed(1)} | ${e.calls / steps} | ${e.elements ? (e.elements / steps / 1e6).toFixed(1) : ""} | ${per} |`);
}
console.log(`\nRSS ${(Deno.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
Deno.exit(0);

// Fused against unfused elementwise work, interleaved round by round in one process so that load from other
// processes hits both alike: each row is a ratio of medians measured side by side. The Adam (1 Mi elements) and
// BatchNorm2d training rows also time PyTorch (bench/torch_peer.ts) in the same rounds, 1 and 2 threads, and
// keep the better median; so do the cross-entropy rows.
//
//   deno run -A bench/fused.ts [elements=1048576] [rounds=15] [only rows whose name contains this]
import { noGrad, Tensor } from "@backprop/autograd";
import { Adam, AdamW, batchNorm, ConvNet, crossEntropy, type Optimizer, Parameter, SGD } from "@backprop/nn";
import { blasLabel } from "./blas.ts";
import { TorchPeer } from "./torch_peer.ts";
import { E, fused, Generator, type NDArray, opByOp, randint, randn, tidy, UNARY_TABLE, unaryOp } from "@backprop/tensor";

const n = Number(Deno.args[0] ?? 1 << 20);
const rounds = Number(Deno.args[1] ?? 15);
const only = Deno.args[2] ?? "";
const g = new Generator(3);

function optimizerCase(make: (ps: Parameter[]) => Optimizer): (fusedOn: boolean) => () => void {
  const p = new Parameter(randn([n], { generator: g }));
  p.grad = new Tensor(randn([n], { generator: g }).keep());
  const opt = make([p]);
  return (fusedOn) => () => {
    opt.fused = fusedOn;
    opt.step();
  };
}

/** Adam over every parameter of the W3 ConvNet (gradients set once, so only the update is timed). */
function convNetAdamCase(): (fusedOn: boolean) => () => void {
  const model = new ConvNet(3, 10, { generator: g });
  const ps = model.parameters();
  for (const p of ps) p.grad = new Tensor(randn(p.shape, { generator: g }).keep());
  const opt = new Adam(ps, { lr: 1e-3 });
  return (fusedOn) => () => {
    opt.fused = fusedOn;
    opt.step();
  };
}

/** A float32 chain with no optimizer around it: (a·b + c) / √(|a| + 1), max with 0. */
function chainCase(): (fusedOn: boolean) => () => void {
  const [a, b, c] = [0, 1, 2].map(() => randn([n], { generator: g }).keep());
  const x = E.input(0);
  const e = E.max(E.div(E.add(E.mul(x, E.input(1)), E.input(2)), E.sqrt(E.add(E.abs(x), 1))), 0);
  return (fusedOn) => () => tidy(() => void (fusedOn ? fused([e], [a!, b!, c!]) : opByOp(e, [a!, b!, c!], [], [n])));
}

/** Logit shapes of the cross-entropy rows: the MLP's and the ConvNet's batches of 10 classes, and a wide one. */
const CROSS_ENTROPY_SHAPES: [number, number][] = [[32, 10], [200, 10], [1024, 1000]];
/** Calls per timing, so that one covers about 100 Ki logits (a single small call is below the timer's noise). */
const crossEntropyReps = (batch: number, classes: number) => Math.max(1, Math.min(100, Math.floor(100_000 / (batch * classes))));
function crossEntropyName(batch: number, classes: number): string {
  const reps = crossEntropyReps(batch, classes);
  return `cross-entropy forward + backward${reps > 1 ? ` ×${reps}` : ""}, [${batch}, ${classes}] logits, class indices`;
}

/** crossEntropy (mean) and its backward to the logits: fused passes against the composed graph. */
function crossEntropyCase(batch: number, classes: number): (fusedOn: boolean) => () => void {
  const x = new Tensor(randn([batch, classes], { generator: g }).keep(), { requiresGrad: true });
  const y = randint(0, classes, [batch], { generator: g }).keep();
  const reps = crossEntropyReps(batch, classes);
  return (fusedOn) => () => {
    for (let i = 0; i < reps; i++) {
      tidy(() => {
        x.grad?.value.dispose();
        x.grad = null;
        crossEntropy(x, y, { fused: fusedOn }).backward();
      });
    }
  };
}

/** Rows with a PyTorch twin (a key of bench/torch_bench.py), timed in the same rounds. */
const TORCH_KEYS: Record<string, string> = {
  "Adam step": n === 1 << 20 ? "adam1m" : "",
  "BatchNorm2d training forward + backward, [32, 64, 32, 32]": "bn2d",
  ...Object.fromEntries(CROSS_ENTROPY_SHAPES.map(([b, c]) => [crossEntropyName(b, c), `ce${b}x${c}`])),
};

const allCases: [string, (fusedOn: boolean) => () => void][] = [
  ["Adam step", optimizerCase((ps) => new Adam(ps, { lr: 1e-3 }))],
  ["AdamW step", optimizerCase((ps) => new AdamW(ps, { lr: 1e-3 }))],
  ["SGD step, momentum 0.9, weight decay", optimizerCase((ps) => new SGD(ps, { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 }))],
  ["Adam step over the W3 ConvNet's parameters", convNetAdamCase()],
  ["BatchNorm2d training forward + backward, [32, 64, 32, 32]", batchNormTrainCase()],
  ["BatchNorm2d evaluation, [32, 64, 32, 32] (2 Mi elements)", batchNormEvalCase()],
  ["exp (per-element TypeScript loop → WebAssembly)", unaryCase("exp")],
  ["log (per-element TypeScript loop → WebAssembly)", unaryCase("log")],
  ["sigmoid (per-element TypeScript loop → WebAssembly)", unaryCase("sigmoid")],
  ["max((a·b + c) / √(|a| + 1), 0)", chainCase()],
  ...CROSS_ENTROPY_SHAPES.map(([b, c]): [string, (fusedOn: boolean) => () => void] => [crossEntropyName(b, c), crossEntropyCase(b, c)]),
];
const cases = allCases.filter(([name]) => name.includes(only));

/**
 * A unary op through the CPU backend (now the WebAssembly kernel of its op-table expression) against the loop
 * it replaced: the op table's float64 function called per element from TypeScript.
 */
function unaryCase(op: "exp" | "log" | "sigmoid"): (fusedOn: boolean) => () => void {
  const x = randn([n], { generator: g }).abs().add(0.01).keep();
  const xs = x.dataSync() as Float32Array, out = new Float32Array(n);
  const f = UNARY_TABLE[op].f64;
  return (fusedOn) => () => {
    if (fusedOn) tidy(() => void unaryOp(op, x));
    else for (let i = 0; i < n; i++) out[i] = f(xs[i]!, 1);
  };
}

/**
 * BatchNorm2d evaluation (running statistics, no graph) at the ConvNet's largest activation, [32, 64, 32, 32]:
 * the fused pass against the same chain of ops batchNorm records when a graph is needed.
 */
function batchNormEvalCase(): (fusedOn: boolean) => () => void {
  const x = randn([32, 64, 32, 32], { generator: g }).keep();
  const [mean, variance, w, b] = [0, 1, 2, 3].map(() => randn([64], { generator: g }).abs().add(0.5).keep()) as NDArray[];
  const shape = [1, 64, 1, 1];
  return (fusedOn) => () =>
    tidy(() => {
      if (fusedOn) noGrad(() => batchNorm(new Tensor(x), mean!, variance!, { weight: new Tensor(w!), bias: new Tensor(b!) }));
      else x.sub(mean!.reshape(shape)).mul(variance!.add(1e-5).rsqrt().reshape(shape)).mul(w!.reshape(shape)).add(b!.reshape(shape));
    });
}

/** BatchNorm2d training forward + backward at [32, 64, 32, 32]: fused passes against the composed graph. */
function batchNormTrainCase(): (fusedOn: boolean) => () => void {
  const x = new Tensor(randn([32, 64, 32, 32], { generator: g }).keep(), { requiresGrad: true });
  const w = new Tensor(randn([64], { generator: g }).keep(), { requiresGrad: true });
  const b = new Tensor(randn([64], { generator: g }).keep(), { requiresGrad: true });
  const probe = new Tensor(randn([32, 64, 32, 32], { generator: g }).keep());
  return (fusedOn) => () =>
    tidy(() => {
      x.grad = w.grad = b.grad = null;
      batchNorm(x, null, null, { weight: w, bias: b, training: true, fused: fusedOn }).mul(probe).sum().backward();
    });
}

const median = (xs: number[]) => [...xs].sort((u, v) => u - v)[xs.length >> 1]!;
console.log(`fused vs unfused, ${n.toLocaleString("en")} float32 elements, ${rounds} interleaved rounds, load ${(await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ")}`);
const peer = await TorchPeer.start();
if (typeof peer === "string") console.log(`PyTorch: ${peer}`);
else console.log(`PyTorch ${peer.version}, ${blasLabel(peer.blas)}`);
console.log("| workload | unfused ms | fused ms | unfused / fused | PyTorch ms | PyTorch / fused |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
try {
  for (const [name, make] of cases) await row(name, make);
} finally {
  if (typeof peer !== "string") await peer.close();
}

async function row(name: string, make: (fusedOn: boolean) => () => void): Promise<void> {
  const key = typeof peer === "string" ? "" : TORCH_KEYS[name] ?? "";
  const torchTimes: Record<1 | 2, number[]> = { 1: [], 2: [] };
  let torchNote = "";
  const runs = [make(false), make(true)];
  for (const r of runs) for (let i = 0; i < 3; i++) r(); // compile and warm up
  const times: number[][] = [[], []];
  for (let i = 0; i < rounds; i++) {
    for (let k = 0; k < 2; k++) {
      const t = performance.now();
      runs[(i + k) % 2]!();
      times[(i + k) % 2]!.push(performance.now() - t);
    }
    if (key && !torchNote && typeof peer !== "string") {
      try {
        for (const threads of [1, 2] as const) torchTimes[threads].push(...(await peer.time(key, threads, 1)));
        await peer.settle(); // OpenBLAS's threads spin on after a product: not during backprop's next runs
      } catch (e) {
        torchNote = e instanceof Error ? e.message : String(e);
      }
    }
  }
  const [u, f] = times.map(median) as [number, number];
  const [t1, t2] = [median(torchTimes[1]), median(torchTimes[2])];
  const pt = !key || torchNote ? undefined : t2 < t1 ? { ms: t2, threads: 2 } : { ms: t1, threads: 1 };
  const ptCells = pt ? `${pt.ms.toFixed(2)} (${pt.threads}t) | ${(pt.ms / f).toFixed(2)}` : `${torchNote ? `fails: ${torchNote}` : "—"} | —`;
  console.log(`| ${name} | ${u.toFixed(2)} | ${f.toFixed(2)} | ${(u / f).toFixed(2)}× | ${ptCells} |`);
}

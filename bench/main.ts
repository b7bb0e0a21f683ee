// CPU benchmark: backprop against TensorFlow.js (cpu and wasm backends) in the same process, interleaved
// round by round so a change in machine load hits every framework alike, and PyTorch (when python3 has
// torch) in a long-lived child whose bursts (1 and 2 threads) interleave with those rounds. Also this engine's WebAssembly-SIMD ceiling, and the default MLP job against NumPy
// (bench/numpy_mlp.py) by phase and as the whole CLI command. Prints Markdown.
//
//   pnpm bench                     (= deno run -A bench/main.ts)
//   deno run -A bench/main.ts --rounds 7 --only W1,W4 --no-torch --no-mlp-run --job-rounds 3 --json out.json
import { cpuKernelInfo, measureCpuPeakGflops } from "@backprop/tensor";
import { blasKind, blasLabel, referenceBlasCaveat } from "./blas.ts";
import { backpropRunner } from "./backprop.ts";
import { tfRunner, tfVersion, useTfBackend } from "./tfjs.ts";
import { TorchPeer } from "./torch_peer.ts";
import { type Runner, type Workload, WORKLOADS } from "./workloads.ts";

const args = Deno.args;
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string, fallback: string) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && args[at + 1] ? args[at + 1]! : fallback;
};
const ROUNDS = Math.max(5, Number(option("rounds", "5")));
const ONLY = option("only", "").split(",").filter(Boolean);
/** A peer (not backprop) whose warm-up run takes longer than this is timed once more, not ROUNDS times. */
const SLOW_MS = 5000;
/**
 * Each round times a burst of back-to-back runs lasting about this long (at most MAX_BURST runs) and keeps the
 * time per run: a single run of a few milliseconds, right after another framework's, would be timed with the
 * other's data in the caches, while PyTorch (in its own process) always runs back to back.
 */
const BURST_MS = 50;
const MAX_BURST = 50;
/**
 * TF.js's cpu backend needs about 424 s for one ConvNet training step on this kind of machine (measured
 * once): those workloads are skipped unless asked for.
 */
const TFJS_CPU_SKIP = flag("tfjs-cpu-convnet") ? [] : ["W3", "W3e"];

type Framework = "backprop" | "tfjs-wasm" | "tfjs-cpu";
const FRAMEWORKS: Framework[] = ["backprop", "tfjs-wasm", "tfjs-cpu"];

interface Measured {
  ms?: number;
  runs?: number;
  note?: string;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function loadAverage(): Promise<string> {
  try {
    return (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  } catch {
    return "unknown";
  }
}

async function select(fw: Framework): Promise<void> {
  if (fw !== "backprop") await useTfBackend(fw === "tfjs-wasm" ? "wasm" : "cpu");
}

function makeRunner(fw: Framework, w: Workload): Runner {
  return fw === "backprop" ? backpropRunner(w) : tfRunner(w);
}

/** Milliseconds per run of `reps` back-to-back runs (one by default). */
/**
 * Untimed runs before each timed burst, for about this long and at least one run, for every framework (PyTorch's
 * child does the same): after another framework's rounds or the wait for PyTorch's threads, the caches, the
 * thread pool and the cores start cold. A training loop runs steps back to back; 20 ms was too short to get there
 * (W1 4.13–4.48 ms against 3.57–3.67 after 100 ms, PyTorch's W1 unchanged at 1.6–2.1 ms).
 */
const WARM_MS = 100;
/**
 * Untimed runs once per framework and workload before its first round, for about this long and at least
 * two runs (a peer slower than SLOW_MS: none): a training loop is measured in its steady state, and backprop's
 * W1 step reaches it only after about 200 steps, as V8 compiles the step's JavaScript in its optimizing tiers
 * (medians of 25-step windows from the start of a process: 4.3–5.6 ms, then 3.7–4.0, 3.4–3.7, … 3.0–3.1 ms
 * from about the 200th step; `--no-wasm-dynamic-tiering` leaves the curve as it is). Without it the first
 * rounds, and so the medians, read up to a third slower than the loop runs.
 */
const STEADY_MS = 1500;

async function timeBurst(r: Runner, reps = 1, warmMs = 0): Promise<number> {
  if (warmMs > 0) {
    const w = performance.now();
    do await r.run(); while (performance.now() - w < warmMs);
  }
  const t = performance.now();
  for (let i = 0; i < reps; i++) await r.run();
  return (performance.now() - t) / reps;
}

function shortError(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split("\n")[0]!.slice(0, 120);
}

interface TorchMeasured {
  ms?: number;
  threads?: number;
  note?: string;
}

/** Milliseconds waited after each PyTorch burst for its threads to go idle (see TorchPeer.settle). */
const settleWaits: number[] = [];

/** PyTorch's rounds of one workload at 1 and 2 threads, one burst each per `round()` call. */
class TorchRounds {
  times: Record<1 | 2, number[]> = { 1: [], 2: [] };
  reps: Record<1 | 2, number> = { 1: 1, 2: 1 };
  note?: string;
  constructor(readonly peer: TorchPeer, readonly key: string) {}

  async warm(): Promise<void> {
    for (const t of [1, 2] as const) {
      const [ms] = await this.peer.time(this.key, t, 1, STEADY_MS);
      this.reps[t] = Math.min(MAX_BURST, Math.max(1, Math.ceil(BURST_MS / Math.max(ms!, 1e-3))));
      settleWaits.push(await this.peer.settle());
    }
  }

  /** One burst per thread count, each followed by a wait until the child's threads are idle again. */
  async round(): Promise<void> {
    for (const t of [1, 2] as const) {
      const ms = await this.peer.time(this.key, t, this.reps[t], WARM_MS);
      this.times[t].push(ms.reduce((a, b) => a + b, 0) / ms.length);
      settleWaits.push(await this.peer.settle());
    }
  }

  /** The median of the better thread count. */
  result(): TorchMeasured {
    if (this.note) return { note: this.note };
    const m1 = median(this.times[1]), m2 = median(this.times[2]);
    return m2 < m1 ? { ms: m2, threads: 2 } : { ms: m1, threads: 1 };
  }
}

async function measure(w: Workload, peer?: TorchPeer): Promise<{ r: Record<Framework, Measured>; pt?: TorchMeasured }> {
  const result = {} as Record<Framework, Measured>;
  const active: { fw: Framework; runner: Runner; reps: number; times: number[] }[] = [];
  for (const fw of FRAMEWORKS) {
    if (fw === "tfjs-cpu" && TFJS_CPU_SKIP.includes(w.key)) {
      result[fw] = { note: "skipped (≈424 s per step; --tfjs-cpu-convnet runs it)" };
      continue;
    }
    try {
      await select(fw);
      const runner = makeRunner(fw, w);
      // Warm-up: compiles kernels, starts workers, fills buffer caches.
      const first = await timeBurst(runner);
      // Only a peer is cut short: backprop always gets its full rounds.
      if (first > SLOW_MS && fw !== "backprop") {
        const second = await timeBurst(runner);
        result[fw] = { ms: second, runs: 1, note: "slow: one timed run" };
        runner.dispose();
        continue;
      }
      const steady = performance.now();
      let warm: number;
      do warm = await timeBurst(runner); while (performance.now() - steady < STEADY_MS);
      active.push({ fw, runner, reps: Math.min(MAX_BURST, Math.max(1, Math.ceil(BURST_MS / Math.max(warm, 1e-3)))), times: [] });
    } catch (e) {
      result[fw] = { note: `fails: ${shortError(e)}` };
    }
  }
  const torch = peer ? new TorchRounds(peer, w.key) : undefined;
  try {
    await torch?.warm();
  } catch (e) {
    torch!.note = `fails: ${shortError(e)}`;
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const a of active) {
      try {
        await select(a.fw);
        a.times.push(await timeBurst(a.runner, a.reps, WARM_MS));
      } catch (e) {
        result[a.fw] = { note: `fails: ${shortError(e)}` };
      }
    }
    if (torch && !torch.note) {
      try {
        await torch.round();
      } catch (e) {
        torch.note = `fails: ${shortError(e)}`;
      }
    }
  }
  return finish(result, active, torch?.result());
}

async function finish(
  result: Record<Framework, Measured>,
  active: { fw: Framework; runner: Runner; times: number[] }[],
  pt: TorchMeasured | undefined,
): Promise<{ r: Record<Framework, Measured>; pt?: TorchMeasured }> {
  for (const a of active) {
    await select(a.fw);
    a.runner.dispose();
    if (!result[a.fw]) result[a.fw] = { ms: median(a.times), runs: a.times.length };
  }
  return { r: result, pt };
}

/** Where the full CIFAR-10 set is, or why the job rows are skipped. */
async function dataDir(): Promise<string | { skipped: string }> {
  const dir = `${new URL("../", import.meta.url).pathname}../shared/data/cifar-10-batches-bin`;
  try {
    await Deno.stat(dir);
    return dir;
  } catch {
    return { skipped: `${dir} not found` };
  }
}

/** Seconds of the whole default `train mlp-manual` command (run records and checkpoints included). */
async function cliJob(data: string): Promise<number | string> {
  const root = new URL("../", import.meta.url).pathname;
  const out = await Deno.makeTempDir({ prefix: "backprop-bench-" });
  const t = performance.now();
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "apps/cli/main.ts", "train", "mlp-manual", "--data_dir", data, "--progress", "none", "--out", `${out}/run`],
    cwd: root,
    stdout: "null",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - t) / 1000;
  await Deno.remove(out, { recursive: true }).catch(() => {});
  return r.success ? seconds : `failed: ${new TextDecoder().decode(r.stderr).split("\n")[0]}`;
}

interface JobRow {
  load_s: number;
  train_s: number;
  evaluate_s: number;
  wall_s: number;
  test_accuracy: number;
  blas?: string;
}

/** A JSON-printing job script in its own process: bench/mlp_job.ts under Deno, or bench/numpy_mlp.py. */
async function scriptJob(kind: "backprop" | "numpy", data: string): Promise<JobRow | string> {
  const here = (f: string) => new URL(f, import.meta.url).pathname;
  const env = { ...Deno.env.toObject() };
  // NumPy's OpenBLAS runs its generic kernels with these set (PLATFORM.md); only this child loses them.
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const [command, args] = kind === "backprop"
    ? [Deno.execPath(), ["run", "-A", here("./mlp_job.ts"), data, "--json"]]
    : ["/usr/bin/python3", [here("./numpy_mlp.py"), data]];
  try {
    const r = await new Deno.Command(command, { args, env, clearEnv: true, stdout: "piped", stderr: "piped" }).output();
    const text = new TextDecoder().decode(r.stdout).trim().split("\n").pop() ?? "";
    if (!r.success) return `failed: ${new TextDecoder().decode(r.stderr).trim().split("\n").pop()}`;
    return JSON.parse(text) as JobRow;
  } catch (e) {
    return kind === "numpy" ? "no /usr/bin/python3 with numpy (`bash bench/setup.sh` installs it: Debian python3-numpy on libopenblas0-pthread)" : shortError(e);
  }
}

/**
 * The default MLP job three ways, in one table: the in-process job by phase for backprop and NumPy, and the
 * whole CLI command. backprop's and NumPy's runs alternate (`rounds` each) and the medians are shown.
 */
async function jobTable(rounds: number): Promise<void> {
  const data = await dataDir();
  if (typeof data !== "string") {
    console.log(`\n- default MLP job: skipped (${data.skipped})`);
    return;
  }
  const runs: Record<"backprop" | "numpy" | "cli", (JobRow | number)[]> = { backprop: [], numpy: [], cli: [] };
  const notes: string[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const kind of ["numpy", "backprop"] as const) {
      const r = await scriptJob(kind, data);
      if (typeof r === "string") notes.push(`${kind}: ${r}`);
      else runs[kind].push(r);
    }
    const cli = await cliJob(data);
    if (typeof cli === "string") notes.push(`cli: ${cli}`);
    else runs.cli.push(cli);
  }
  const med = (rows: (JobRow | number)[], key: keyof JobRow) => median(rows.map((r) => (r as JobRow)[key] as number));
  const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : "—");
  console.log(`\n| default MLP job (1,500 steps, 15 evaluations) | load s | train s | evaluate s | wall s | test accuracy |`);
  console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
  for (const kind of ["backprop", "numpy"] as const) {
    const rows = runs[kind];
    if (!rows.length) continue;
    const label = kind === "backprop" ? "backprop (bench/mlp_job.ts)" : `NumPy (bench/numpy_mlp.py; ${blasLabel((rows[0] as JobRow).blas ?? "unknown")})`;
    console.log(`| ${label} | ${fmt(med(rows, "load_s"))} | ${fmt(med(rows, "train_s"))} | ${fmt(med(rows, "evaluate_s"))} | ${fmt(med(rows, "wall_s"))} | ${med(rows, "test_accuracy").toFixed(4)} |`);
  }
  const cli = runs.cli.length ? median(runs.cli as number[]) : NaN;
  console.log(`| backprop CLI \`train mlp-manual\` (whole command, records and checkpoints) | | | | ${fmt(cli)} | |`);
  const numpyWall = runs.numpy.length ? med(runs.numpy, "wall_s") : NaN;
  const jobWall = runs.backprop.length ? med(runs.backprop, "wall_s") : NaN;
  const compute = (rows: (JobRow | number)[]) => (rows.length ? med(rows, "train_s") + med(rows, "evaluate_s") : NaN);
  const numpyCaveat = runs.numpy.length ? referenceBlasCaveat("NumPy", (runs.numpy[0] as JobRow).blas ?? "") : undefined;
  if (numpyCaveat) console.log(`\n- job backprop / NumPy: not printed: ${numpyCaveat}`);
  else {
    console.log(
      `\n- job backprop / NumPy: ${fmt(jobWall / numpyWall)} in-process, ${fmt(cli / numpyWall)} for the CLI command; ` +
        `train + evaluate alone ${fmt(compute(runs.backprop) / compute(runs.numpy))} (medians of ${rounds}, alternating)`,
    );
  }
  if (notes.length) console.log(`- job notes: ${notes.join("; ")}`);
}

const fmtMs = (m: Measured | undefined) => (m?.ms === undefined ? "—" : m.ms >= 100 ? m.ms.toFixed(0) : m.ms.toFixed(2));
const fmtRatio = (peer: number | undefined, ours: number | undefined) =>
  peer === undefined || ours === undefined ? "—" : (peer / ours).toFixed(2);

async function main(): Promise<void> {
  const loadBefore = await loadAverage();
  const info = cpuKernelInfo();
  const workloads = WORKLOADS.filter((w) => !ONLY.length || ONLY.includes(w.key));
  console.log(`# backprop CPU benchmark\n`);
  console.log(`- date: ${new Date().toISOString()}`);
  console.log(`- runtime: Deno ${Deno.version.deno} (V8 ${Deno.version.v8}); TF.js ${tfVersion}`);
  console.log(`- kernels: ${info.relaxedSimd ? "relaxed" : "plain"} SIMD, ${info.threads} threads`);
  console.log(`- load average before: ${loadBefore}`);
  console.log(`- rounds: ${ROUNDS} per framework after ${STEADY_MS / 1000} s of untimed runs (the steady state of a loop), interleaved; each times a burst of back-to-back runs of about ${BURST_MS} ms (at most ${MAX_BURST} runs; one run when a run is longer) after ${WARM_MS} ms (at least one run) of untimed runs; medians of the time per run\n`);

  // One call of the ceiling loop can run on the engine's baseline tier or lose the core to another process: a
  // warm-up call, then the median of five (as packages/tensor/bench/gemm_shapes.ts does).
  const ceiling = (threads: number) => {
    measureCpuPeakGflops(threads, 6_000_000);
    return median(Array.from({ length: 5 }, () => measureCpuPeakGflops(threads, 6_000_000)));
  };
  const peak1 = ceiling(1), peak2 = ceiling(2);
  const peer = flag("no-torch") ? "skipped (--no-torch)" : await TorchPeer.start();
  const torchCaveat = typeof peer === "string" ? undefined : referenceBlasCaveat("PyTorch", peer.blas);
  if (torchCaveat) console.error(`! ${torchCaveat}`);
  const rows: { w: Workload; r: Record<Framework, Measured>; pt?: TorchMeasured }[] = [];
  try {
    for (const w of workloads) {
      console.error(`… ${w.key}: ${w.title}`);
      rows.push({ w, ...(await measure(w, typeof peer === "string" ? undefined : peer)) });
    }
  } finally {
    if (typeof peer !== "string") await peer.close();
  }
  const torch = typeof peer === "string" ? peer : { torch: peer.version, blas: peer.blas, blasKind: blasKind(peer.blas), results: Object.fromEntries(rows.map(({ w, pt }) => [w.key, pt])) };

  const rate = (w: Workload, ms?: number) => {
    if (ms === undefined) return "—";
    return w.images ? `${((w.images * 1000) / ms).toFixed(0)} img/s` : `${(w.flops / ms / 1e6).toFixed(1)}`;
  };
  console.log("| workload | backprop ms | backprop GFLOP/s | TF.js wasm ms | TF.js cpu ms | PyTorch ms | wasm / backprop | cpu / backprop | PyTorch / backprop |");
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const { w, r, pt } of rows) {
    const ours = r.backprop.ms;
    const cell = (m: Measured) => (m.ms !== undefined ? fmtMs(m) + (m.runs === 1 ? " (1 run)" : "") : m.note ? `— ¹` : "—");
    console.log(
      `| ${w.key} ${w.title} | ${fmtMs(r.backprop)} | ${rate(w, ours)} | ${cell(r["tfjs-wasm"])} | ${cell(r["tfjs-cpu"])} | ` +
        `${pt?.ms !== undefined ? `${pt.ms >= 100 ? pt.ms.toFixed(0) : pt.ms.toFixed(2)} (${pt.threads}t)` : pt?.note ? "— ¹" : "—"} | ${fmtRatio(r["tfjs-wasm"].ms, ours)} | ` +
        `${fmtRatio(r["tfjs-cpu"].ms, ours)} | ${torchCaveat && pt?.ms !== undefined ? "— ²" : fmtRatio(pt?.ms, ours)} |`,
    );
  }
  const notes = rows.flatMap(({ w, r, pt }) => [
    ...FRAMEWORKS.filter((f) => r[f].note).map((f) => `${w.key} ${f}: ${r[f].note}`),
    ...(pt?.note ? [`${w.key} PyTorch: ${pt.note}`] : []),
  ]);
  if (notes.length) console.log(`\n¹ ${notes.join("; ")}`);
  if (torchCaveat) console.log(`\n² ${torchCaveat}`);
  const w4 = rows.find((x) => x.w.key === "W4");
  console.log(`\n- Wasm-SIMD ceiling (${info.relaxedSimd ? "relaxed_madd" : "mul+add"} loop, no memory traffic): ${peak1.toFixed(1)} GFLOP/s on 1 thread, ${peak2.toFixed(1)} on 2`);
  if (w4?.r.backprop.ms) {
    const g = w4.w.flops / w4.r.backprop.ms / 1e6;
    console.log(`- backprop GEMM 1024³: ${g.toFixed(1)} GFLOP/s = ${((100 * g) / peak2).toFixed(0)} % of the 2-thread ceiling`);
  }
  console.log(`- PyTorch: ${typeof torch === "string" ? torch : `${torch.torch}, ${blasLabel(torch.blas)}; medians of the better of 1 and 2 threads (t), bursts interleaved with the JavaScript rounds, each followed by a wait until its threads are idle (OpenBLAS's spin after a product; median ${median(settleWaits).toFixed(0)} ms, at most ${Math.max(...settleWaits).toFixed(0)} ms)`}`);
  if (!flag("no-mlp-run")) await jobTable(Number(option("job-rounds", "3")));
  console.log(`- load average after: ${await loadAverage()}`);
  const json = option("json", "");
  if (json) await Deno.writeTextFile(json, JSON.stringify({ rows: rows.map(({ w, r }) => ({ key: w.key, ...r })), torch, peak1, peak2 }, null, 2));
}

await main();
// The kernels' worker threads are unref'd; TF.js keeps nothing alive either, but exit explicitly anyway.
Deno.exit(0);

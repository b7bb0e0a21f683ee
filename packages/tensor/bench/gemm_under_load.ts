// 1024³ on two threads with row chunks over the shared B shrinking to 40 rows (the default) against two chunks per
// thread (setGemmShrinkSharedRowChunks(false)), bursts of each alternated in one process. With `--neighbour`, a
// second process keeps one core busy 2 ms out of every 4 meanwhile, as another program on a shared machine does:
// the case the shrinking chunks are for (a thread the OS runs late hands its share to the other).
// Prints a Markdown table of medians over the bursts.
//
//   deno run -A packages/tensor/bench/gemm_under_load.ts [--bursts 11] [--neighbour]
import { gemm, setGemmShrinkSharedRowChunks, setNumThreads, stopWasmWorkers } from "../src/cpu/wasm/mod.ts";
import { wasmAlloc } from "../test/wasm_buffers.ts";

/** The parts of Deno this script uses, typed here so the package's tsc (without Deno's types) checks it too. */
interface DenoApi {
  args: string[];
  loadavg(): number[];
  execPath(): string;
  Command: new (cmd: string, options: { args: string[]; stdout: "null"; stderr: "null" }) => { spawn(): { kill(): void } };
}
const deno = (globalThis as { Deno?: DenoApi }).Deno;
const argv: string[] = deno?.args ?? [];
const at = argv.indexOf("--bursts");
const bursts = at >= 0 ? Number(argv[at + 1]) : 11;
const withNeighbour = argv.includes("--neighbour");

const N = 1024;
const A = wasmAlloc(N * N), B = wasmAlloc(N * N), C = wasmAlloc(N * N);
A.view.forEach((_, i, v) => (v[i] = Math.random() - 0.5));
B.view.forEach((_, i, v) => (v[i] = Math.random() - 0.5));
setNumThreads(2);

/** Median ms of the products run back to back for `ms`. */
function burst(ms: number): number {
  const times: number[] = [];
  const start = performance.now();
  while (performance.now() - start < ms) {
    const t = performance.now();
    gemm(false, false, N, N, N, A.view, 0, N, B.view, 0, N, C.view, 0, N, 0);
    times.push(performance.now() - t);
  }
  return times.sort((x, y) => x - y)[times.length >> 1]!;
}

const neighbourSource = `const end = performance.now() + 600000;
while (performance.now() < end) {
  const busy = performance.now() + 2;
  while (performance.now() < busy);
  await new Promise((r) => setTimeout(r, 2));
}`;
const neighbour = withNeighbour && deno
  ? new deno.Command(deno.execPath(), { args: ["eval", neighbourSource], stdout: "null", stderr: "null" }).spawn()
  : undefined;
try {
  const modes = [["shrinking to 40 rows (default)", true], ["two per thread", false]] as const;
  for (const [, on] of modes) {
    setGemmShrinkSharedRowChunks(on);
    burst(600);
  }
  const samples = modes.map(() => [] as number[]);
  for (let r = 0; r < bursts; r++) {
    modes.forEach(([, on], i) => {
      setGemmShrinkSharedRowChunks(on);
      samples[i]!.push(burst(250));
    });
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
  console.log(`1024³, 2 threads, ${bursts} alternated bursts of 250 ms; ${withNeighbour ? "a neighbour busy 2 ms in 4" : "no neighbour"}; load ${deno?.loadavg().map((x) => x.toFixed(2)).join(" ") ?? "?"}\n`);
  console.log("| row chunks over the shared B | median ms | fastest | slowest |\n| --- | ---: | ---: | ---: |");
  modes.forEach(([name], i) => {
    const s = samples[i]!;
    console.log(`| ${name} | ${median(s).toFixed(2)} | ${Math.min(...s).toFixed(2)} | ${Math.max(...s).toFixed(2)} |`);
  });
} finally {
  setGemmShrinkSharedRowChunks(true);
  neighbour?.kill();
  stopWasmWorkers();
}

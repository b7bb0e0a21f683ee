// The fixed cost of an op on small arrays: everything around the kernel (checks, broadcasting, the result's array
// and storage, scope bookkeeping). Each row times `tidy(() => op)` over a few thousand elements, where the
// arithmetic is a small part, as a median of rounds; the MLP step makes about thirty such calls.
// Prints a Markdown table of nanoseconds per call.
//
//   deno run -A packages/tensor/bench/small_ops.ts [--rounds 9]
import { Generator, randn, tidy } from "../src/mod.ts";

/** The parts of Deno this script uses, typed here so the package's tsc (without Deno's types) checks it too. */
const deno = (globalThis as { Deno?: { args: string[]; loadavg(): number[] } }).Deno;
const argv: string[] = deno?.args ?? [];
const at = argv.indexOf("--rounds");
const rounds = at >= 0 ? Number(argv[at + 1]) : 9;

const g = new Generator(1);
const a = randn([200, 10], { generator: g }).keep();
const b = randn([200, 10], { generator: g }).keep();
const row = randn([10], { generator: g }).keep();
const wide = randn([200, 100], { generator: g }).keep();

const cases: [string, () => void][] = [
  ["a + b, [200, 10]", () => tidy(() => void a.add(b))],
  ["a + row, [200, 10] + [10] (broadcast)", () => tidy(() => void a.add(row))],
  ["relu, [200, 100]", () => tidy(() => void wide.relu())],
  ["sum over rows, [200, 100] → [200]", () => tidy(() => void wide.sum(1))],
  ["transpose view, [200, 100]", () => tidy(() => void wide.T)],
];

/** Nanoseconds per call over about 100 ms. */
function round(f: () => void): number {
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < 100) {
    for (let i = 0; i < 100; i++) f();
    n += 100;
  }
  return ((performance.now() - start) / n) * 1e6;
}

for (const [, f] of cases) round(f); // warm-up: every case compiled in its optimizing tier
const samples = cases.map(() => [] as number[]);
for (let r = 0; r < rounds; r++) cases.forEach(([, f], i) => samples[i]!.push(round(f)));
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
console.log(`median of ${rounds} interleaved rounds of ~100 ms; load ${deno?.loadavg().map((x) => x.toFixed(2)).join(" ") ?? "?"}\n`);
console.log("| call | ns per call |\n| --- | ---: |");
cases.forEach(([name], i) => console.log(`| ${name} | ${median(samples[i]!).toFixed(0)} |`));

/**
 * Load time and memory of the full data set, and the cost of a batch.
 *
 *   deno run -A --v8-flags=--expose-gc packages/datasets/bench/load.ts [path]
 *
 * `path` is a data folder or archive (default: $BACKPROP_CIFAR10, else ../shared/data/cifar-10-batches-bin).
 *
 * Prints a table; the figures in the package README come from it.
 */
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { loadCifar10 } from "../src/mod.ts";

const here = dirname(fileURLToPath(import.meta.url));
const path = process.argv[2] ?? process.env.BACKPROP_CIFAR10 ??
  join(resolve(here, "../../../../shared/data"), "cifar-10-batches-bin");

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0) + " MiB";
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const before = process.memoryUsage();
const rows: [string, string][] = [];

let t0 = performance.now();
const cifar = await loadCifar10({ dataDir: path, download: false });
const loadMs = performance.now() - t0;
gc?.();
const after = process.memoryUsage();
rows.push(["source", `${cifar.location.kind} ${cifar.location.path}`]);
rows.push(["examples (train / test)", `${cifar.train.numExamples} / ${cifar.test.numExamples}`]);
const dataBytes = cifar.train.rawImages.length + cifar.test.rawImages.length + cifar.train.numExamples + cifar.test.numExamples;
rows.push(["uint8 images + labels held", mib(dataBytes)]);
rows.push(["load (read + validate + mean image)", `${loadMs.toFixed(0)} ms`]);
rows.push(["resident set size after load", `${mib(after.rss)} (before: ${mib(before.rss)})`]);

for (const batchSize of [200, 1000]) {
  const rounds = 50;
  cifar.train.nextBatch(batchSize);
  t0 = performance.now();
  for (let i = 0; i < rounds; i++) cifar.train.nextBatch(batchSize);
  rows.push([`nextBatch(${batchSize}) to float32`, `${((performance.now() - t0) / rounds).toFixed(2)} ms`]);
}
t0 = performance.now();
let count = 0;
for (const batch of cifar.test.batches(1000)) count += batch.size;
rows.push([`test set in batches of 1000 (${count} images)`, `${(performance.now() - t0).toFixed(0)} ms`]);
t0 = performance.now();
const stats = cifar.channelStats();
rows.push(["channel stats (first call)", `${(performance.now() - t0).toFixed(0)} ms`]);
rows.push(["channel mean / std", `${stats.mean.map((v) => v.toFixed(1)).join(", ")} / ${stats.std.map((v) => v.toFixed(1)).join(", ")}`]);

const width = Math.max(...rows.map(([k]) => k.length));
for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);

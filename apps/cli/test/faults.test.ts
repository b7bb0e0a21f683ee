/**
 * Fault injection: runs killed with SIGKILL at random points and resumed, random bit flips and truncations of
 * every file of a run folder, and runs started together on one folder. The sizes below are CI's (about a minute on
 * two cores); FAULT_CYCLES, FAULT_FLIPS, FAULT_TRUNCATIONS, FAULT_RACES and FAULT_SEED scale and vary them.
 * docs/FAULTS.md records the counts of a larger run and the command that produced them.
 */
import { spawn } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ChecksumError, decodeSafetensors } from "@backprop/nn";
import { afterAll, describe, expect, test } from "vitest";
import { run } from "../src/main.ts";
import { decodeCheckpoint } from "../src/train/checkpoint.ts";
import { hasMini, miniArchive, repoRoot, tempDir } from "./helpers.ts";

// The binary itself: the npm wrapper script would take the signal instead of Deno.
const deno = join(repoRoot, "node_modules/deno/deno");
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const CYCLES = env("FAULT_CYCLES", 40);
const FLIPS = env("FAULT_FLIPS", 300);
const TRUNCATIONS = env("FAULT_TRUNCATIONS", 2);
const RACES = env("FAULT_RACES", 2);
const SEED = env("FAULT_SEED", 1);

/** A small seeded generator (mulberry32), so a failing case can be replayed with FAULT_SEED. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = random(SEED);
const below = (n: number) => Math.floor(rand() * n);

/** A short run whose state has every kind of part: weights, momentum buffers, dropout's generator, the data order. */
const trainArgs = (out: string, ...more: string[]) => [
  "train", "mlp", "--data_dir", miniArchive, "--dnn_hidden_units", "16", "--batch_size", "20", "--max_steps", "60",
  "--eval_freq", "5", "--eval_subset", "50", "--momentum", "0.9", "--dropout", "0.1", "--progress", "lines", "--out", out, ...more,
];

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  /** Milliseconds from the start to the "data: …" line (start-up done; null if never printed) and to the end. */
  dataMs: number | null;
  endMs: number;
}

/** Starts the CLI under Deno; `killAt` may send SIGKILL at a moment it picks from the output so far. */
function cliProcess(args: string[], killAt?: (child: ReturnType<typeof spawn>, output: () => string) => void): Promise<Ended> {
  const started = performance.now();
  const child = spawn(deno, ["run", "-A", "apps/cli/main.ts", ...args], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  let output = "", dataMs: number | null = null;
  const onData = (d: Buffer) => {
    output += d.toString();
    if (dataMs === null && /^data: /m.test(output)) dataMs = performance.now() - started;
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  killAt?.(child, () => output);
  return new Promise((resolve) => child.on("close", (code, signal) => resolve({ code, signal, output, dataMs, endMs: performance.now() - started })));
}

/** In-process CLI, collecting stderr (the refusals are one `error:` line). */
async function cli(args: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  const [spyErr, spyLog] = [console.error, console.log];
  console.error = (...a: unknown[]) => void err.push(a.join(" "));
  console.log = () => {};
  try {
    return { code: await run(args), err: err.join("\n") };
  } finally {
    [console.error, console.log] = [spyErr, spyLog];
  }
}

function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f)).toString("base64")]));
}

/** What must agree between two runs: every tensor's bytes, the step and data order, and the metrics without timings. */
function outcome(dir: string) {
  const { tensors, metadata } = decodeSafetensors(new Uint8Array(readFileSync(join(dir, "checkpoint.safetensors"))));
  const meta = JSON.parse(metadata.backprop!);
  const metrics = readFileSync(join(dir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => ({ ...JSON.parse(l), elapsed_s: 0, examples_per_s: 0 }));
  return {
    tensors: Object.fromEntries(Object.entries(tensors).map(([k, v]) => [k, Buffer.from(v.dataSync().buffer).toString("base64")])),
    step: meta.step, train: meta.train, trainer: meta.trainer, metrics,
  };
}

const counts: Record<string, number> = {};
const count = (key: string, n = 1) => void (counts[key] = (counts[key] ?? 0) + n);
afterAll(() => console.log(`fault counts (FAULT_SEED=${SEED}): ${JSON.stringify(counts)}`));

describe.skipIf(!hasMini || !existsSync(deno))("fault injection", () => {
  const reference = tempDir("fault-ref");

  test("kill -9 at random points, then --resume (or --overwrite before the first checkpoint): the final weights and metrics are the uninterrupted run's", async () => {
    const whole = await cliProcess(trainArgs(reference));
    expect(whole.code, whole.output).toBe(0);
    const expected = outcome(reference);
    // Kill moments are drawn from the uninterrupted run's own timing on this machine, however loaded it is.
    const startupMs = whole.dataMs!, trainingMs = whole.endMs - whole.dataMs!;
    let kills = 0;
    while (kills < CYCLES) {
      const out = tempDir("fault-kill");
      let killedThisRun = 0;
      for (let attempt = 0; ; attempt++) {
        expect(attempt, "a run that never completes").toBeLessThan(CYCLES + 20);
        const files = readdirSync(out).filter((f) => !f.startsWith("run.lock") && !f.endsWith(".tmp"));
        const how = existsSync(join(out, "checkpoint.safetensors")) ? ["--resume"] : files.length ? ["--overwrite"] : [];
        // Kill during start-up (lock, records) now and then; mostly somewhere in training, evaluation or a checkpoint
        // write: a moment drawn uniformly from the uninterrupted run's start-up or training time.
        const kill = kills < CYCLES;
        const early = rand() < 0.25;
        const delay = below(early ? startupMs : trainingMs);
        const ended = await cliProcess(trainArgs(out, ...how), (child, output) => {
          if (!kill) return;
          const fire = () => setTimeout(() => child.kill("SIGKILL"), delay);
          if (early) return fire();
          const watch = setInterval(() => {
            if (!/^data: /m.test(output())) return;
            clearInterval(watch);
            fire();
          }, 5);
          child.on("close", () => clearInterval(watch));
        });
        // What each process (killed later or not) cleaned up after the one killed before it.
        if (/taking over the lock/.test(ended.output)) count("stale locks taken over");
        const temps = /removed (\d+) temporary files? of interrupted writes/.exec(ended.output);
        if (temps) count("stale temp files removed", Number(temps[1]));
        if (ended.signal === "SIGKILL") {
          kills++;
          killedThisRun++;
          count("kill -9");
          if (!existsSync(join(out, "checkpoint.safetensors"))) count("kills before the first checkpoint");
          continue;
        }
        expect(ended.code, `${how.join(" ")}\n${ended.output}`).toBe(0);
        break;
      }
      expect(outcome(out)).toEqual(expected);
      expect(readdirSync(out).filter((f) => f.startsWith("run.lock") || f.endsWith(".tmp"))).toEqual([]);
      // A run whose process ended before the kill fired proves nothing about kills; it is counted apart.
      count(killedThisRun ? "killed runs completed by --resume, identical to the uninterrupted run" : "runs that finished before their kill");
    }
  }, 60_000 + CYCLES * 10_000);

  test("bit flips in tensor data are detected and refused, naming the tensor; eval and --resume write nothing", async () => {
    const file = join(reference, "checkpoint.safetensors");
    const bytes = new Uint8Array(readFileSync(file));
    const length = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length))) as Record<string, { data_offsets: [number, number] }>;
    const start = 8 + length;
    const tensorAt = (offset: number) =>
      Object.keys(header).find((k) => k !== "__metadata__" && header[k]!.data_offsets[0] <= offset && offset < header[k]!.data_offsets[1]);
    for (let i = 0; i < FLIPS; i++) {
      const at = start + below(bytes.length - start);
      const bad = bytes.slice();
      bad[at]! ^= 1 << below(8);
      count("bit flips in tensor data");
      const error = (() => {
        try {
          decodeCheckpoint(bad, file, () => {});
        } catch (e) {
          return e;
        }
      })();
      expect(error, `flip at byte ${at}`).toBeInstanceOf(ChecksumError);
      expect((error as ChecksumError).tensor).toBe(tensorAt(at - start));
      count("bit flips detected");
    }
    // End to end, through the commands that read the checkpoint.
    const copy = tempDir("fault-flip");
    cpSync(reference, copy, { recursive: true });
    for (let i = 0; i < 2; i++) {
      const bad = bytes.slice();
      const at = start + below(bytes.length - start);
      bad[at]! ^= 1 << below(8);
      writeFileSync(join(copy, "checkpoint.safetensors"), bad);
      const before = snapshot(copy);
      for (const args of [["eval", copy, "--data_dir", miniArchive], trainArgs(copy, "--resume", "--max_steps", "80")]) {
        const r = await cli(args);
        expect(r.code).toBe(1);
        expect(r.err).toMatch(new RegExp(`checkpoint\\.safetensors: tensor "${tensorAt(at - start)!.replace(/\./g, "\\.")}" fails its checksum`));
        expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
        count("flipped checkpoints refused by eval or --resume");
      }
      expect(snapshot(copy)).toEqual(before);
    }
  }, 60_000 + FLIPS * 20);

  test("truncations of every file of a run folder: each one read is refused with exit 1 and nothing written; the others are rewritten whole", async () => {
    const copy = tempDir("fault-trunc");
    cpSync(reference, copy, { recursive: true });
    const readers: Record<string, string[][]> = {
      "checkpoint.safetensors": [["eval", copy, "--data_dir", miniArchive], trainArgs(copy, "--resume", "--max_steps", "80")],
      "config.json": [["eval", copy, "--data_dir", miniArchive], trainArgs(copy, "--resume", "--max_steps", "80")],
      "metrics.jsonl": [trainArgs(copy, "--resume", "--max_steps", "80")],
      // Outputs only: train and eval never read them; a resumed run writes them again at its end.
      "summary.json": [],
      "predictions.json": [],
    };
    expect(readdirSync(reference).sort()).toEqual(Object.keys(readers).sort());
    for (const [name, commands] of Object.entries(readers)) {
      const original = readFileSync(join(reference, name));
      for (let i = 0; i < TRUNCATIONS; i++) {
        // At least two bytes short: dropping a JSON file's final newline alone loses nothing.
        const cut = below(original.length - 1);
        writeFileSync(join(copy, name), original.subarray(0, cut));
        count("truncations");
        const before = snapshot(copy);
        for (const args of commands) {
          const r = await cli(args);
          expect(r.code, `${name} cut to ${cut} bytes: ${args.join(" ")}`).toBe(1);
          expect(r.err).toContain(name);
          expect(r.err).not.toMatch(/\n\s+at /);
        }
        expect(snapshot(copy)).toEqual(before);
        if (commands.length) count("truncations detected and refused");
        else {
          const r = await cli(trainArgs(copy, "--resume"));
          expect(r.code, r.err).toBe(0);
          expect(() => JSON.parse(readFileSync(join(copy, name), "utf8"))).not.toThrow();
          count("truncated outputs rewritten by --resume");
        }
        writeFileSync(join(copy, name), original);
      }
    }
  }, 60_000 + TRUNCATIONS * 30_000);

  test("runs started together on one folder: exactly one proceeds, the folder holds that run alone", async () => {
    for (let round = 0; round < RACES; round++) {
      const out = tempDir("fault-race");
      const seeds = [1, 2, 3];
      const ended = await Promise.all(seeds.map((seed) => cliProcess(trainArgs(out, "--seed", String(seed), "--max_steps", "40"))));
      count("concurrent starts", seeds.length);
      const winners = ended.flatMap((e, i) => (e.code === 0 ? [seeds[i]!] : []));
      expect(winners, ended.map((e) => e.output).join("\n---\n")).toHaveLength(1);
      for (const e of ended.filter((e) => e.code !== 0)) {
        // In use (3) while the winner trains; already holding a run (2) once it is done.
        expect([2, 3], e.output).toContain(e.code);
        expect(e.output).toMatch(/^error: .*(is in use by process|already holds a run)/m);
        count(e.code === 3 ? "refused: folder in use (exit 3)" : "refused: folder holds a run (exit 2)");
      }
      const config = JSON.parse(readFileSync(join(out, "config.json"), "utf8"));
      expect(config.flags.seed).toBe(winners[0]);
      expect(readFileSync(join(out, "metrics.jsonl"), "utf8").trim().split("\n")).toHaveLength(8);
      expect(decodeSafetensors(new Uint8Array(readFileSync(join(out, "checkpoint.safetensors")))).checksum).toBe("verified");
      expect(readdirSync(out).sort()).toEqual(["checkpoint.safetensors", "config.json", "metrics.jsonl", "predictions.json", "summary.json"]);
      expect(statSync(join(out, "metrics.jsonl")).mode & 0o002).toBe(0);
      count("races with exactly one run proceeding");
    }
  }, 60_000 + RACES * 30_000);
});

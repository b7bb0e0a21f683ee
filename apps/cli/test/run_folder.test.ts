import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { decodeSafetensors, encodeSafetensors } from "@backprop/nn";
import { describe, expect, test } from "vitest";
import { OutputError } from "../src/errors.ts";
import { run } from "../src/main.ts";
import { LineProgress, type Progress, type ProgressState } from "../src/progress.ts";
import { StopSignal, train } from "../src/train/loop.ts";
import { hasMini, miniArchive, quickConfig, silent, tempDir } from "./helpers.ts";

/** Runs the CLI in this process, collecting what it prints. */
async function cli(args: string[]): Promise<{ code: number; err: string; out: string }> {
  const [err, out]: string[][] = [[], []];
  const [spyErr, spyLog] = [console.error, console.log];
  console.error = (...a: unknown[]) => void err.push(a.join(" "));
  console.log = (...a: unknown[]) => void out.push(a.join(" "));
  try {
    const code = await run(args);
    return { code, err: err.join("\n"), out: out.join("\n") };
  } finally {
    [console.error, console.log] = [spyErr, spyLog];
  }
}

const quick = ["--data_dir", miniArchive, "--dnn_hidden_units", "16", "--batch_size", "20", "--eval_subset", "50", "--progress", "none"];
const trainArgs = (out: string, ...more: string[]) => ["train", "mlp", ...quick, "--max_steps", "10", "--eval_freq", "5", "--out", out, ...more];

/** Every file of a folder with its bytes and modification time, to prove nothing was written. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).sort().map((f) => {
    const p = join(dir, f);
    return [f, `${statSync(p).mtimeMs} ${readFileSync(p).toString("base64")}`];
  }));
}

/** The first byte of the data of `tensor` in a safetensors file. */
function dataOffset(bytes: Uint8Array, tensor: string): number {
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
  return 8 + length + header[tensor].data_offsets[0];
}

describe.skipIf(!hasMini)("run folders", () => {
  test("train refuses a non-empty folder without a checkpoint unless --overwrite; --overwrite with --resume is refused", async () => {
    const out = tempDir("nonempty");
    writeFileSync(join(out, "notes.txt"), "mine");
    const refused = await cli(trainArgs(out));
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/--out: .* is not empty \(notes\.txt\); pass --resume to continue it, --overwrite to start over in it/);
    expect(readdirSync(out)).toEqual(["notes.txt"]);
    expect((await cli(trainArgs(out, "--resume", "--overwrite"))).err).toMatch(/--overwrite: it starts the run over; --resume continues it/);
    const overwritten = await cli(trainArgs(out, "--overwrite"));
    expect(overwritten.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["checkpoint.safetensors", "config.json", "metrics.jsonl", "notes.txt", "predictions.json", "summary.json"]);
    // A second --overwrite starts over: the run's files are replaced, not appended to.
    expect((await cli(trainArgs(out, "--overwrite", "--max_steps", "5"))).code).toBe(0);
    expect(readFileSync(join(out, "metrics.jsonl"), "utf8").trim().split("\n")).toHaveLength(1);
  }, 60_000);

  test("flags that do not fit the data are refused before anything is written", async () => {
    const out = join(tempDir("batch"), "run");
    const r = await cli(trainArgs(out, "--batch_size", "100000"));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error: --batch_size: expected at most the 5000 training images of .*cifar-10-mini\.tar\.gz, got 100000$/);
    expect(existsSync(out)).toBe(false);
  }, 60_000);

  test("an unwritable --out is one line naming the file, exit 1", async () => {
    const dir = tempDir("unwritable");
    writeFileSync(join(dir, "afile"), "x");
    const r = await cli(trainArgs(join(dir, "afile", "run")));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: cannot write .*afile\/run\/run\.lock: a part of the path is a file, not a folder \(ENOTDIR\)$/);
  }, 60_000);

  test("a folder whose lock a live process holds is refused with exit 3, naming the holder", async () => {
    const out = tempDir("busy");
    const holder = { pid: process.ppid, host: hostname(), started_at: "2026-12-04T10:00:00.000Z", command: "train cnn --out x" };
    writeFileSync(join(out, "run.lock"), JSON.stringify(holder));
    const r = await cli(trainArgs(out));
    expect(r.code).toBe(3);
    expect(r.err).toMatch(new RegExp(`is in use by process ${process.ppid} on .* \\(started 2026-12-04T10:00:00.000Z: train cnn --out x\\)`));
    expect(readdirSync(out)).toEqual(["run.lock"]);
  }, 60_000);

  test("the folder is locked while training and the lock is gone afterwards", async () => {
    const out = tempDir("locked");
    let seen: unknown = null;
    const progress: Progress = { ...silent, update: (s) => void (s.step === 3 && (seen = JSON.parse(readFileSync(join(out, "run.lock"), "utf8")))) };
    await train(quickConfig("mlp", out, { maxSteps: 5, evalFreq: 5 }), progress, new StopSignal());
    expect(seen).toMatchObject({ pid: process.pid, host: hostname() });
    expect(existsSync(join(out, "run.lock"))).toBe(false);
  }, 60_000);

  test("a flipped bit in a checkpoint's tensor data: eval and --resume refuse it naming the file and tensor, exit 1, nothing written", async () => {
    const out = tempDir("flip");
    expect((await cli(trainArgs(out))).code).toBe(0);
    const file = join(out, "checkpoint.safetensors");
    const bytes = new Uint8Array(readFileSync(file));
    bytes[dataOffset(bytes, "model.layers.0.weight") + 101]! ^= 0x10;
    writeFileSync(file, bytes);
    const before = snapshot(out);
    const evaluated = await cli(["eval", out, "--data_dir", miniArchive]);
    expect(evaluated.code).toBe(1);
    expect(evaluated.err).toMatch(/^error: .*checkpoint\.safetensors: tensor "model\.layers\.0\.weight" fails its checksum: CRC-32C [0-9a-f]{8} recorded, [0-9a-f]{8} found/);
    const resumed = await cli(trainArgs(out, "--resume", "--max_steps", "20"));
    expect(resumed.code).toBe(1);
    expect(resumed.err).toMatch(/tensor "model\.layers\.0\.weight" fails its checksum/);
    expect(snapshot(out)).toEqual(before);
  }, 60_000);

  test("a checkpoint written before checksums still loads, with a warning", async () => {
    const out = tempDir("old");
    expect((await cli(trainArgs(out))).code).toBe(0);
    const file = join(out, "checkpoint.safetensors");
    const { tensors, metadata } = decodeSafetensors(new Uint8Array(readFileSync(file)));
    writeFileSync(file, encodeSafetensors(tensors, metadata, { checksum: false }));
    const r = await cli(["eval", out, "--data_dir", miniArchive, "--json"]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/warning: .*checkpoint\.safetensors carries no checksums \(written before checksums existed\); its data cannot be verified/);
    expect(JSON.parse(r.out).step).toBe(10);
  }, 60_000);

  test("damaged records are refused by name: truncated config.json, truncated or edited metrics.jsonl", async () => {
    const out = tempDir("records");
    expect((await cli(trainArgs(out))).code).toBe(0);
    const config = join(out, "config.json"), metrics = join(out, "metrics.jsonl");
    const [configText, metricsText] = [readFileSync(config, "utf8"), readFileSync(metrics, "utf8")];
    writeFileSync(config, configText.slice(0, 40));
    for (const args of [["eval", out, "--data_dir", miniArchive], trainArgs(out, "--resume")]) {
      const r = await cli(args);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/^error: .*config\.json: not valid JSON \(.*\); the file is truncated or damaged$/);
    }
    // --debug adds the stack trace, and is no flag of the commands themselves.
    const debug = await cli(["eval", out, "--debug"]);
    expect(debug.code).toBe(1);
    expect(debug.err).toMatch(/^error: .*config\.json: not valid JSON[^\n]*\nRunRecordError: .*\n\s+at /);
    writeFileSync(config, configText);
    writeFileSync(metrics, metricsText.slice(0, metricsText.indexOf("\n") + 1)); // a whole line lost
    const cut = await cli(trainArgs(out, "--resume", "--max_steps", "20"));
    expect(cut.code).toBe(1);
    expect(cut.err).toMatch(/metrics\.jsonl: the checkpoint at step 10 recorded \d+ bytes with CRC-32C [0-9a-f]{8}, found \d+ bytes; the file was truncated or changed/);
    writeFileSync(metrics, metricsText.replace('"step":5', '"step":6'));
    expect((await cli(trainArgs(out, "--resume", "--max_steps", "20"))).err).toMatch(/found CRC-32C [0-9a-f]{8} over them/);
    writeFileSync(metrics, metricsText);
    expect((await cli(trainArgs(out, "--resume", "--max_steps", "20"))).code).toBe(0);
  }, 60_000);

  test("divergence before the first checkpoint says there is none; --resume and a new train then say what to do", async () => {
    const out = tempDir("diverge");
    const r = await cli(["train", "mlp", ...quick, "--learning_rate", "1e6", "--init", "pytorch", "--max_steps", "20", "--eval_freq", "10", "--out", out]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/the training loss became NaN at step \d; no checkpoint was written before it \(the first comes at step 10\), so there is nothing to resume/);
    expect(existsSync(join(out, "checkpoint.safetensors"))).toBe(false);
    expect(JSON.parse(readFileSync(join(out, "summary.json"), "utf8")).status).toBe("diverged");
    expect((await cli(trainArgs(out, "--resume"))).err).toMatch(/--resume: no checkpoint at .*; the run stopped before its first checkpoint: start it over with --overwrite/);
    expect((await cli(trainArgs(out))).err).toMatch(/is not empty \(config\.json, summary\.json\)/);
  }, 60_000);

  test("divergence after a checkpoint names the step the checkpoint really holds", async () => {
    const out = tempDir("diverge-late");
    const { exitCode, summary } = await train(
      quickConfig("mlp", out, { learningRate: 30, init: "pytorch", maxSteps: 200, evalFreq: 3 }),
      silent,
      new StopSignal(),
    );
    expect(exitCode).toBe(1);
    const held = JSON.parse(decodeSafetensors(new Uint8Array(readFileSync(join(out, "checkpoint.safetensors")))).metadata.backprop!).step;
    expect(held).toBeGreaterThan(0);
    expect(summary.message).toContain(`the checkpoint holds the last good state (step ${held})`);
  }, 60_000);

  test("a folder that becomes unwritable mid-run stops the run with a message naming the file and the checkpoint on disk", async () => {
    const parent = tempDir("midrun");
    const out = join(parent, "run");
    // At step 7 (after the checkpoint of step 5) the folder is moved away and a file put in its place.
    const progress: Progress = {
      ...silent,
      update: (s) => {
        if (s.step === 7 && !existsSync(join(parent, "moved"))) {
          renameSync(out, join(parent, "moved"));
          writeFileSync(out, "");
        }
      },
    };
    const config = quickConfig("mlp", out, { maxSteps: 20, evalFreq: 5 });
    const error = await train(config, progress, new StopSignal()).catch((e) => e);
    expect(error).toBeInstanceOf(OutputError);
    expect(error.message).toMatch(/^cannot write .*run\/metrics\.jsonl: a part of the path is a file, not a folder \(ENOTDIR\); training stopped at step 10; the checkpoint on disk holds step 5/);
  }, 60_000);

  test("the last progress update carries the final evaluation, and the line display prints it", async () => {
    const out = tempDir("progress");
    const states: ProgressState[] = [];
    const { summary } = await train(quickConfig("mlp", out, { maxSteps: 10, evalFreq: 4 }), { ...silent, update: (s) => void states.push({ ...s }) }, new StopSignal());
    expect(states.at(-1)!.lastTestAccuracy).toBe(summary.final_test_accuracy);
    const printed: string[] = [];
    const spy = console.log;
    console.log = (s: string) => void printed.push(s);
    try {
      const lines = new LineProgress(100);
      lines.start(states[0]!);
      for (const s of states) lines.update(s);
    } finally {
      console.log = spy;
    }
    expect(printed.at(-1)).toMatch(new RegExp(`^step 10/10 .* test acc ${summary.final_test_accuracy!.toFixed(4)}$`));
  }, 60_000);
});

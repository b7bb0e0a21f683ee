import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readRun, readRuns } from "../src/read_run.ts";
import { writeFixtureRun } from "./fixtures.ts";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "backprop-report-read-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("readRun (on FIXTURE runs)", () => {
  it("reads a complete run with no problems", async () => {
    const dir = await writeFixtureRun(root, { name: "fixture-a", seed: 1 });
    const run = await readRun(dir);
    expect(run.problems).toEqual([]);
    expect(run.id).toBe("fixture-a");
    expect(run.config?.model).toBe("mlp");
    expect(run.metrics).toHaveLength(15);
    expect(run.summary?.status).toBe("completed");
    expect(run.predictions?.classes).toHaveLength(10);
  });

  it("names the run when metrics.jsonl is missing, and keeps the rest", async () => {
    const dir = await writeFixtureRun(root, { name: "fixture-nometrics" });
    await rm(join(dir, "metrics.jsonl"));
    const run = await readRun(dir);
    expect(run.problems).toHaveLength(1);
    expect(run.problems[0]).toContain(`run "fixture-nometrics"`);
    expect(run.problems[0]).toContain("metrics.jsonl is missing; no curves");
    expect(run.summary).toBeDefined();
    expect(run.predictions).toBeDefined();
  });

  it("names the run and the line when metrics.jsonl ends half-written", async () => {
    const dir = await writeFixtureRun(root, { name: "fixture-cut" });
    await writeFile(join(dir, "metrics.jsonl"), `{"step": 100, "test_accuracy": 0.2}\n{"step": 200, "test_acc`);
    const run = await readRun(dir);
    expect(run.metrics).toEqual([{ step: 100, test_accuracy: 0.2 }]);
    expect(run.problems).toHaveLength(1);
    expect(run.problems[0]).toMatch(/^run "fixture-cut" at .*fixture-cut: metrics\.jsonl line 2 is cut off/);
  });

  it("reports unreadable JSON files and a wrongly shaped confusion matrix", async () => {
    const dir = await writeFixtureRun(root, { name: "fixture-bad" });
    await writeFile(join(dir, "summary.json"), `{"status": "comp`);
    await writeFile(join(dir, "predictions.json"), JSON.stringify({ classes: ["a", "b"], confusion: [[1, 2]] }));
    const run = await readRun(dir);
    expect(run.summary).toBeUndefined();
    expect(run.predictions).toBeUndefined();
    expect(run.problems.join("\n")).toMatch(/summary\.json is not valid JSON/);
    expect(run.problems.join("\n")).toMatch(/predictions\.json: "confusion" should be a 2×2 matrix/);
  });

  it("uses the folder name when config.json is missing", async () => {
    const dir = await writeFixtureRun(root, { name: "fixture-noconfig" });
    await rm(join(dir, "config.json"));
    const run = await readRun(dir);
    expect(run.id).toBe("fixture-noconfig");
    expect(run.config).toBeUndefined();
    expect(run.problems[0]).toMatch(/config\.json is missing/);
  });

  it("marks a path that does not exist, a file, and a folder without records as unreadable, saying why", async () => {
    const run = await readRun(join(root, "nope"));
    expect(run.unreadable).toBe("does not exist");
    expect(run.problems[0]).toMatch(/run "nope" .*does not exist; nothing to report/);
    const file = join(root, "a-file.txt");
    await writeFile(file, "not a run");
    expect((await readRun(file)).unreadable).toBe("is a file, not a run folder");
    await mkdir(join(root, "empty"), { recursive: true });
    expect((await readRun(join(root, "empty"))).unreadable).toMatch(/^holds no run records \(config\.json, metrics\.jsonl/);
  });

  it("marks a folder whose records are all unreadable, and not one with a single readable file", async () => {
    const dir = join(root, "garbage");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "summary.json"), "{ cut off");
    expect((await readRun(dir)).unreadable).toMatch(/^none of its run records could be read \(.*summary\.json is not valid JSON/);
    await writeFile(join(dir, "config.json"), JSON.stringify({ name: "fixture-garbage", flags: {} }));
    const run = await readRun(dir);
    expect(run.unreadable).toBeUndefined();
    expect(run.id).toBe("fixture-garbage");
  });

  it("makes ids unique when two runs share a name", async () => {
    const a = await writeFixtureRun(join(root, "a"), { name: "fixture-same" });
    const b = await writeFixtureRun(join(root, "b"), { name: "fixture-same" });
    const runs = await readRuns([a, b]);
    expect(new Set(runs.map((r) => r.id)).size).toBe(2);
  });
});

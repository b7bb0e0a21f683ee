// Reads run folders into Run values. Nothing here throws for a bad run: each unreadable file becomes a message
// naming the run, so one broken run never costs the rest of the report.
import { readFile, stat } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { parseMetricsJsonl } from "./metrics_jsonl.ts";
import type { Predictions, Run, RunConfig, RunSummary } from "./types.ts";

type Json = Record<string, unknown>;

/** The files of a run folder (docs/RUN_RECORDS.md); a folder holding none of them is not a run. */
export const RECORD_FILES = ["config.json", "metrics.jsonl", "summary.json", "predictions.json"] as const;

/** Whether every problem met is a missing file, i.e. the folder holds no run records at all. */
function looksEmpty(problems: readonly string[]): boolean {
  return problems.every((p) => /^\S+ is missing/.test(p));
}

/** Reads one run folder. `id` defaults to the config's name, else the folder name. */
export async function readRun(dir: string): Promise<Run> {
  const folderName = basename(resolve(dir));
  const fileProblems: string[] = [];
  const run: Run = { id: folderName, dir, metrics: [], problems: [] };

  const notAFolder = await whyNotAFolder(dir);
  if (notAFolder) {
    run.unreadable = notAFolder;
    run.problems.push(`run "${folderName}" (${dir}): ${notAFolder}; nothing to report`);
    return run;
  }

  const config = await readJson(dir, "config.json", fileProblems);
  if (config) {
    if (config.flags !== undefined && (typeof config.flags !== "object" || config.flags === null)) {
      fileProblems.push(`config.json: "flags" is not an object; flags are ignored`);
    }
    const flags = typeof config.flags === "object" && config.flags !== null && !Array.isArray(config.flags)
      ? config.flags
      : {};
    run.config = { ...config, flags } as RunConfig;
    if (typeof config.name === "string" && config.name !== "") run.id = config.name;
  }

  const metricsText = await readText(dir, "metrics.jsonl", fileProblems);
  if (metricsText !== undefined) {
    const parsed = parseMetricsJsonl(metricsText);
    run.metrics = parsed.rows;
    fileProblems.push(...parsed.problems);
    if (parsed.rows.length === 0 && parsed.problems.length === 0) {
      fileProblems.push("metrics.jsonl is empty; no curves");
    }
  } else {
    fileProblems[fileProblems.length - 1] += "; no curves";
  }

  const summary = await readJson(dir, "summary.json", fileProblems);
  if (summary) run.summary = summary as RunSummary;

  const predictions = await readJson(dir, "predictions.json", fileProblems);
  if (predictions) {
    const why = checkPredictions(predictions);
    if (why) fileProblems.push(`predictions.json: ${why}; no confusion matrix or samples`);
    else run.predictions = predictions as unknown as Predictions;
  }

  if (run.config === undefined && run.metrics.length === 0 && run.summary === undefined && run.predictions === undefined) {
    run.unreadable = looksEmpty(fileProblems)
      ? `holds no run records (${RECORD_FILES.join(", ")}) and no run folders`
      : `none of its run records could be read (${fileProblems.join("; ")})`;
  }
  const label = run.id === folderName ? `"${run.id}"` : `"${run.id}" (folder ${folderName})`;
  run.problems = fileProblems.map((p) => `run ${label} at ${dir}: ${p}`);
  return run;
}

/** Reads every folder, then makes run ids unique by appending the folder name where two share a name. */
export async function readRuns(dirs: string[]): Promise<Run[]> {
  const runs = await Promise.all(dirs.map(readRun));
  const counts = new Map<string, number>();
  for (const run of runs) counts.set(run.id, (counts.get(run.id) ?? 0) + 1);
  const used = new Set<string>();
  for (const run of runs) {
    if ((counts.get(run.id) ?? 0) > 1) {
      let id = `${run.id} (${basename(resolve(run.dir))})`;
      for (let n = 2; used.has(id); n++) id = `${run.id} (${basename(resolve(run.dir))} #${n})`;
      run.id = id;
    }
    used.add(run.id);
  }
  return runs;
}

/** Whether a folder holds any run-record file, so `report runs/` can mean "every run under runs/". */
export async function looksLikeRun(dir: string): Promise<boolean> {
  for (const file of RECORD_FILES) {
    if (await exists(`${dir}/${file}`)) return true;
  }
  return false;
}

async function readText(dir: string, file: string, problems: string[]): Promise<string | undefined> {
  try {
    return await readFile(`${dir}/${file}`, "utf8");
  } catch (error) {
    const code = (error as { code?: string }).code;
    problems.push(code === "ENOENT" ? `${file} is missing` : `${file} could not be read (${code ?? error})`);
    return undefined;
  }
}

async function readJson(dir: string, file: string, problems: string[]): Promise<Json | undefined> {
  const text = await readText(dir, file, problems);
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    problems.push(`${file} is not valid JSON (${(error as Error).message}); it was probably cut off while written`);
    return undefined;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    problems.push(`${file} holds ${Array.isArray(value) ? "an array" : typeof value}, expected a JSON object`);
    return undefined;
  }
  return value as Json;
}

/** A reason predictions.json can't be used, or undefined when its shape is right. */
function checkPredictions(p: Json): string | undefined {
  const classes = p.classes;
  if (!Array.isArray(classes) || classes.length === 0 || !classes.every((c) => typeof c === "string")) {
    return `"classes" should be a list of class names`;
  }
  const n = classes.length;
  const confusion = p.confusion;
  if (
    !Array.isArray(confusion) || confusion.length !== n ||
    !confusion.every((row) =>
      Array.isArray(row) && row.length === n && row.every((c) => typeof c === "number" && c >= 0)
    )
  ) {
    return `"confusion" should be a ${n}×${n} matrix of counts (one row and column per class)`;
  }
  for (const key of ["samples", "worst"]) {
    if (p[key] !== undefined && !Array.isArray(p[key])) return `"${key}" should be a list`;
  }
  if (p.samples === undefined) p.samples = [];
  if (p.worst === undefined) p.worst = [];
  if (!Array.isArray(p.per_class_accuracy)) p.per_class_accuracy = [];
  return undefined;
}

/** Why `path` cannot be read as a run folder, or undefined when it is a folder. */
async function whyNotAFolder(path: string): Promise<string | undefined> {
  try {
    return (await stat(path)).isDirectory() ? undefined : "is a file, not a run folder";
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ENOENT") return "does not exist";
    if (code === "EACCES" || code === "EPERM") return "cannot be read (permission denied)";
    if (code === "ENOTDIR") return "does not exist (a part of the path is a file)";
    return `cannot be read (${code ?? error})`;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

// Groups runs for comparison: runs that differ only in their seed are repeats of one configuration (mean ± std);
// configurations that differ in exactly one setting are drawn on the same axes.
import type { FlagValue, Run } from "./types.ts";

/**
 * Flags that say where or how a run was recorded, not what was trained; two runs differing only in these are the
 * same experiment. `seed` is here because seeds are what mean ± std is taken over.
 */
export const NON_SETTING_FLAGS: readonly string[] = [
  "seed",
  "out",
  "name",
  "data_dir",
  "resume",
  "eval_freq",
  "eval_batch_size",
  "eval_subset",
  "device",
  "progress",
  "help",
  "quiet",
  "verbose",
];

/** The pseudo-flag under which the model name (mlp, cnn, …) is compared like any flag. */
export const MODEL_SETTING = "model";

/** A run's settings: model and flags (minus NON_SETTING_FLAGS), each value as a canonical string. */
export function settingsOf(run: Run, ignored: readonly string[] = NON_SETTING_FLAGS): Map<string, string> {
  const settings = new Map<string, string>();
  if (run.config?.model !== undefined) settings.set(MODEL_SETTING, run.config.model);
  for (const [flag, value] of Object.entries(run.config?.flags ?? {})) {
    if (ignored.includes(flag) || flag === MODEL_SETTING) continue;
    settings.set(flag, canonical(value));
  }
  return settings;
}

/** Value as text: strings as they are, lists comma-joined ("512,256"), the rest as JSON. Key order is sorted. */
export function canonical(value: FlagValue): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value) && value.length === 0) return "[]";
  if (Array.isArray(value) && value.every((v) => typeof v !== "object" || v === null)) {
    return value.map((v) => String(v)).join(",");
  }
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: FlagValue): FlagValue {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys(value[k])]));
  }
  return value;
}

const UNSET = "(unset)";

function keyOf(settings: Map<string, string>, except?: string): string {
  return JSON.stringify([...settings].filter(([k]) => k !== except).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Runs that share every setting: repeats of one configuration under different seeds. */
export interface Configuration {
  settings: Map<string, string>;
  runs: Run[];
}

/** Groups runs with a config.json by identical settings, in order of first appearance. */
export function configurations(runs: readonly Run[], ignored: readonly string[] = NON_SETTING_FLAGS): Configuration[] {
  const byKey = new Map<string, Configuration>();
  for (const run of runs) {
    if (!run.config) continue;
    const settings = settingsOf(run, ignored);
    const key = keyOf(settings);
    const found = byKey.get(key);
    if (found) found.runs.push(run);
    else byKey.set(key, { settings, runs: [run] });
  }
  return [...byKey.values()];
}

/** Configurations that hold every setting fixed except `setting`, which takes two or more values. */
export interface OneSettingComparison {
  setting: string;
  /** The settings every member shares. */
  fixed: Map<string, string>;
  /** One entry per value of `setting` (the runs of each are the seeds of that configuration). */
  members: { value: string; runs: Run[] }[];
}

/**
 * Every group of configurations that differ in exactly one setting. A setting absent from a run counts as the
 * value "(unset)". Members are ordered by value (numerically where all values are numbers).
 */
export function oneSettingComparisons(
  runs: readonly Run[],
  ignored: readonly string[] = NON_SETTING_FLAGS,
): OneSettingComparison[] {
  const configs = configurations(runs, ignored);
  const allSettings = [...new Set(configs.flatMap((c) => [...c.settings.keys()]))].sort();
  const comparisons: OneSettingComparison[] = [];
  for (const setting of allSettings) {
    const classes = new Map<string, Configuration[]>();
    for (const config of configs) {
      const key = keyOf(config.settings, setting);
      classes.set(key, [...(classes.get(key) ?? []), config]);
    }
    for (const members of classes.values()) {
      if (members.length < 2) continue;
      const fixed = new Map([...members[0].settings].filter(([k]) => k !== setting));
      comparisons.push({
        setting,
        fixed,
        members: sortByValue(members.map((c) => ({ value: c.settings.get(setting) ?? UNSET, runs: c.runs }))),
      });
    }
  }
  return comparisons;
}

/** Settings whose value is not the same in every run with a config (the columns worth showing in a summary). */
export function varyingSettings(runs: readonly Run[], ignored: readonly string[] = NON_SETTING_FLAGS): string[] {
  const all = runs.filter((r) => r.config).map((r) => settingsOf(r, ignored));
  const names = [...new Set(all.flatMap((s) => [...s.keys()]))].sort();
  return names.filter((name) => new Set(all.map((s) => s.get(name) ?? UNSET)).size > 1);
}

/**
 * For each of `settings`, its most frequent value over the runs with a config (the first seen wins a tie): the
 * reference that a summary row can be described against ("optimizer=adam" rather than every setting).
 */
export function commonSettings(
  runs: readonly Run[],
  settings: readonly string[],
  ignored: readonly string[] = NON_SETTING_FLAGS,
): Map<string, string> {
  const all = runs.filter((r) => r.config).map((r) => settingsOf(r, ignored));
  const common = new Map<string, string>();
  for (const name of settings) {
    const counts = new Map<string, number>();
    for (const s of all) {
      const value = s.get(name) ?? UNSET;
      counts.set(value, (counts.get(value) ?? 0) + 1);
    }
    let best: string | undefined;
    for (const [value, n] of counts) if (best === undefined || n > counts.get(best)!) best = value;
    if (best !== undefined) common.set(name, best);
  }
  return common;
}

function sortByValue<T extends { value: string }>(members: T[]): T[] {
  const numeric = members.every((m) => m.value !== "" && Number.isFinite(Number(m.value)));
  return [...members].sort((a, b) =>
    numeric ? Number(a.value) - Number(b.value) : a.value.localeCompare(b.value, "en", { numeric: true })
  );
}

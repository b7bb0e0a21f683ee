/**
 * Finding the data: an explicit path, then `BACKPROP_CIFAR10`, then the cache. Each place that does not
 * qualify is recorded with the reason, for the "not found" message.
 */
import { readdir, stat } from "node:fs/promises";
import { homedir } from "node:os";
import process from "node:process";
import { isAbsolute, join, resolve } from "node:path";
import { CIFAR10_ARCHIVE_NAME, CIFAR10_FOLDER, REQUIRED_FILES } from "./cifar_format.ts";
import { DataNotFoundError } from "./errors.ts";

/** Where the data came from. */
export type DataOrigin = "dataDir" | "env" | "cache" | "download";

/** A place holding CIFAR-10. */
export interface Cifar10Location {
  /** An unpacked `cifar-10-batches-bin/` folder, or a (gzipped) tar archive packed like the official one. */
  kind: "folder" | "archive";
  /** Absolute path of the folder or archive. */
  path: string;
  origin: DataOrigin;
}

/** The environment variable naming a data folder or archive. */
export const DATA_ENV_VAR = "BACKPROP_CIFAR10";

/** Environment lookup; defaults to the process environment. */
export type Environment = Record<string, string | undefined>;

/** `$XDG_CACHE_HOME/backprop`, or `~/.cache/backprop` when XDG_CACHE_HOME is unset or relative. */
export function defaultCacheDir(env: Environment = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), ".cache"), "backprop");
}

/** The folder the cache keeps the unpacked data in. */
export function cachedFolder(cacheDir: string): string {
  return join(resolve(cacheDir), CIFAR10_FOLDER);
}

/**
 * What `path` holds: a data folder (it has a required .bin file), a folder holding `cifar-10-batches-bin/` or
 * `cifar-10-binary.tar.gz`, or an archive file. Returns a reason string when it is none of those.
 */
export async function inspectPath(path: string): Promise<{ kind: "folder" | "archive"; path: string } | string> {
  const absolute = resolve(path);
  let info;
  try {
    info = await stat(absolute);
  } catch {
    return "does not exist";
  }
  if (info.isFile()) return { kind: "archive", path: absolute };
  if (!info.isDirectory()) return "is neither a folder nor a file";
  let names: string[];
  try {
    names = await readdir(absolute);
  } catch (cause) {
    return `cannot be listed (${cause instanceof Error ? cause.message : cause})`;
  }
  if (REQUIRED_FILES.some((name) => names.includes(name))) return { kind: "folder", path: absolute };
  if (names.includes(CIFAR10_FOLDER)) {
    const inner = await inspectPath(join(absolute, CIFAR10_FOLDER));
    if (typeof inner !== "string") return inner;
  }
  if (names.includes(CIFAR10_ARCHIVE_NAME)) return { kind: "archive", path: join(absolute, CIFAR10_ARCHIVE_NAME) };
  return `is a folder without ${REQUIRED_FILES[0]}, ${CIFAR10_FOLDER}/ or ${CIFAR10_ARCHIVE_NAME}`;
}

/** Options of {@link findCifar10}. */
export interface FindOptions {
  /** An explicit folder or archive; when given and unusable, that is an error (no fallback). */
  dataDir?: string;
  /** The cache folder; defaults to {@link defaultCacheDir}. */
  cacheDir?: string;
  /** Environment to read BACKPROP_CIFAR10 / XDG_CACHE_HOME / HOME from; defaults to the process environment. */
  env?: Environment;
}

/** The result of a search: the location if any, and every place looked at with why it did not qualify. */
export interface FindResult {
  location?: Cifar10Location;
  searched: string[];
}

/**
 * Looks for the data: `dataDir`, then BACKPROP_CIFAR10, then the cache. An explicit path or environment
 * variable that points at nothing usable throws {@link DataNotFoundError} at once rather than silently falling
 * back to another copy.
 */
export async function findCifar10(options: FindOptions = {}): Promise<FindResult> {
  const env = options.env ?? process.env;
  const searched: string[] = [];
  if (options.dataDir !== undefined && options.dataDir !== "") {
    const found = await inspectPath(options.dataDir);
    if (typeof found !== "string") return { location: { ...found, origin: "dataDir" }, searched };
    throw new DataNotFoundError([`the dataDir option: ${resolve(options.dataDir)} — ${found}`]);
  }
  searched.push("the dataDir option (--data_dir): not given");

  const fromEnv = env[DATA_ENV_VAR];
  if (fromEnv !== undefined && fromEnv !== "") {
    const found = await inspectPath(fromEnv);
    if (typeof found !== "string") return { location: { ...found, origin: "env" }, searched };
    throw new DataNotFoundError([...searched, `${DATA_ENV_VAR}=${fromEnv}: ${resolve(fromEnv)} — ${found}`]);
  }
  searched.push(`the ${DATA_ENV_VAR} environment variable: not set`);

  const cached = cachedFolder(options.cacheDir ?? defaultCacheDir(env));
  const found = await inspectPath(cached);
  if (typeof found !== "string" && found.kind === "folder") {
    return { location: { ...found, origin: "cache" }, searched };
  }
  searched.push(`the cache: ${cached} — ${typeof found === "string" ? found : "holds no data"}`);
  return { searched };
}

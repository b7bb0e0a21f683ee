/**
 * Downloading the official archive into the cache: stream to a temporary folder inside the cache while
 * hashing, check size and SHA-256, unpack, then move the unpacked folder into place with one rename.
 * Whatever fails, the temporary folder is removed: the cache never holds a partial download.
 */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, open, rename, rm, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import process from "node:process";
import { ValueError } from "@backprop/tensor";
import { CIFAR10_ARCHIVE_NAME, CIFAR10_ARCHIVE_SHA256, CIFAR10_ARCHIVE_SIZE, CIFAR10_FOLDER, CIFAR10_URL } from "./cifar_format.ts";
import { extractCifar10Archive } from "./cifar_files.ts";
import { DatasetError, DownloadError, errorText } from "./errors.ts";
import { defaultCacheDir } from "./locate.ts";

/** Reported while downloading. */
export interface DownloadProgress {
  /** Bytes received so far. */
  bytes: number;
  /** Expected total, from Content-Length or the expected size; undefined when unknown. */
  total: number | undefined;
  /** Average rate since the start, in bytes per second. */
  rate: number;
}

/**
 * The time a download measures: progress intervals and rates, and the stall watchdog. The default is the real
 * clock; a test passes one it advances by hand, so a stall or a slow transfer is decided by the test, not by how
 * busy the machine is.
 */
export interface DownloadClock {
  /** Milliseconds since an arbitrary origin, never decreasing. */
  now(): number;
  /** Calls `callback` once, `ms` milliseconds from now; returns a function that cancels the call. */
  schedule(ms: number, callback: () => void): () => void;
}

const realClock: DownloadClock = {
  now: () => performance.now(),
  schedule(ms, callback) {
    const timer = setTimeout(callback, ms);
    return () => clearTimeout(timer);
  },
};

/** Options of {@link downloadCifar10}. */
export interface DownloadOptions {
  /** Where to download from; defaults to the official archive. */
  url?: string;
  /** The cache folder; defaults to `$XDG_CACHE_HOME/backprop` or `~/.cache/backprop`. */
  cacheDir?: string;
  /** Expected SHA-256 of the archive (hex); defaults to the official archive's. */
  sha256?: string;
  /** Expected size of the archive in bytes; defaults to the official archive's. */
  size?: number;
  /** Called as bytes arrive (at most every `progressIntervalMs`, and once at the end). */
  onProgress?: (progress: DownloadProgress) => void;
  /** Minimum milliseconds between progress calls; default 100. */
  progressIntervalMs?: number;
  /** Aborts the download. */
  signal?: AbortSignal;
  /**
   * Gives up when the server sends nothing for this many milliseconds (while connecting or mid-way); default
   * 60,000. A slow but steady download never times out.
   */
  stallTimeoutMs?: number;
  /**
   * The clock behind `progressIntervalMs`, the progress rate and `stallTimeoutMs`; defaults to the real one
   * (`performance.now()` and `setTimeout`).
   */
  clock?: DownloadClock;
}

const DEFAULT_STALL_TIMEOUT_MS = 60_000;

/**
 * Downloads, verifies and unpacks the archive into `<cacheDir>/cifar-10-batches-bin` and returns that folder.
 * If another process placed the folder first, its copy is kept and returned.
 *
 * @throws DownloadError with `reason` "network", "http", "size", "checksum", "aborted", "stalled" or "extract";
 * DatasetError when the cache folder cannot be written.
 */
export async function downloadCifar10(options: DownloadOptions = {}): Promise<string> {
  const url = options.url ?? CIFAR10_URL;
  const expectedSha256 = (options.sha256 ?? CIFAR10_ARCHIVE_SHA256).toLowerCase();
  const expectedSize = options.size ?? CIFAR10_ARCHIVE_SIZE;
  const cacheDir = resolve(options.cacheDir ?? defaultCacheDir(process.env));
  const target = join(cacheDir, CIFAR10_FOLDER);

  const temp = await mkdir(cacheDir, { recursive: true })
    .then(() => mkdtemp(join(cacheDir, ".download-")))
    .catch((cause: unknown) => {
      throw cacheError("create a download folder in", cacheDir, cause);
    });
  try {
    const archive = join(temp, CIFAR10_ARCHIVE_NAME);
    await fetchVerified(url, archive, expectedSize, expectedSha256, options);
    try {
      await extractCifar10Archive(archive, join(temp, CIFAR10_FOLDER));
    } catch (cause) {
      throw new DownloadError(
        `${url}: the download passed its checks but could not be unpacked (${errorText(cause)})`,
        url,
        "extract",
        { file: cause instanceof DatasetError ? cause.file : archive, cause },
      );
    }
    try {
      await rename(join(temp, CIFAR10_FOLDER), target);
    } catch (cause) {
      // Lost a race with another download into the same cache: keep theirs.
      if (!(await isFolder(target))) throw cacheError("move the unpacked data to", target, cause);
    }
    return target;
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

/** The cache folder cannot be written (permissions, a full disk): the file system's error is the cause. */
function cacheError(action: string, path: string, cause: unknown): DatasetError {
  return new DatasetError(`downloadCifar10: cannot ${action} ${path} (${errorText(cause)})`, {
    file: path,
    expected: "a writable cache folder",
    found: errorText(cause),
    cause,
  });
}

async function isFolder(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** What a transfer checks between chunks: the abort signal, and what to report when it fired. */
interface TransferWatch {
  signal: AbortSignal;
  /** The error for an aborted transfer: stalled (the watchdog fired) or aborted by the caller. */
  failure(): DownloadError;
  /** Restarts the stall watchdog; called with the byte count after every chunk. */
  received(bytes: number): void;
}

async function fetchVerified(
  url: string,
  archivePath: string,
  expectedSize: number,
  expectedSha256: string,
  options: DownloadOptions,
): Promise<void> {
  const stallMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  if (!(stallMs > 0)) throw new ValueError(`downloadCifar10: stallTimeoutMs must be positive, got ${stallMs}`);
  // A watchdog restarted by every chunk: a server that stops sending would otherwise hang the download forever.
  const clock = options.clock ?? realClock;
  const watchdog = new AbortController();
  let bytes = 0;
  let cancelTimer = () => {};
  const watch: TransferWatch = {
    signal: options.signal ? AbortSignal.any([options.signal, watchdog.signal]) : watchdog.signal,
    failure: () =>
      watchdog.signal.aborted
        ? new DownloadError(
          `${url}: no data for ${stallMs / 1000} s after ${bytes} of ${expectedSize} bytes — the connection stalled`,
          url,
          "stalled",
          { expected: `data within ${stallMs / 1000} s`, found: `nothing after ${bytes} bytes` },
        )
        : new DownloadError(`${url}: download aborted`, url, "aborted", { cause: options.signal?.reason }),
    received: (n) => {
      bytes = n;
      cancelTimer();
      cancelTimer = clock.schedule(stallMs, () => watchdog.abort());
    },
  };
  watch.received(0);
  try {
    await fetchInto(url, archivePath, expectedSize, expectedSha256, options, watch);
  } finally {
    cancelTimer();
  }
}

async function fetchInto(
  url: string,
  archivePath: string,
  expectedSize: number,
  expectedSha256: string,
  options: DownloadOptions,
  watch: TransferWatch,
): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, { signal: watch.signal });
  } catch (cause) {
    if (watch.signal.aborted) throw watch.failure();
    throw new DownloadError(`${url}: cannot connect (${describeFetchError(cause)})`, url, "network", {
      expected: "a reachable server",
      found: describeFetchError(cause),
      cause,
    });
  }
  if (!response.ok || response.body === null) {
    await response.body?.cancel().catch(() => {});
    throw new DownloadError(
      `${url}: the server answered HTTP ${response.status} ${response.statusText}`.trimEnd(),
      url,
      "http",
      { expected: "HTTP 200", found: `HTTP ${response.status}` },
    );
  }
  const announced = response.headers.get("content-length");
  const announcedSize = announced === null ? undefined : Number(announced);
  if (announcedSize !== undefined && announcedSize !== expectedSize) {
    await response.body.cancel().catch(() => {});
    throw new DownloadError(
      `${url}: the server announces ${announcedSize} bytes, expected ${expectedSize} — not the expected archive`,
      url,
      "size",
      { expected: `${expectedSize} bytes`, found: `${announcedSize} bytes` },
    );
  }

  const hash = createHash("sha256");
  const handle = await open(archivePath, "w").catch((cause: unknown) => {
    throw cacheError("write the archive to", archivePath, cause);
  });
  const clock = options.clock ?? realClock;
  const started = clock.now();
  const interval = options.progressIntervalMs ?? 100;
  let lastReport = -Infinity;
  let bytes = 0;
  const report = (force: boolean) => {
    if (options.onProgress === undefined) return;
    const now = clock.now();
    if (!force && now - lastReport < interval) return;
    lastReport = now;
    const seconds = Math.max((now - started) / 1000, 1e-6);
    options.onProgress({ bytes, total: announcedSize ?? expectedSize, rate: bytes / seconds });
  };
  try {
    const reader = response.body.getReader();
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (cause) {
        if (watch.signal.aborted) throw watch.failure();
        throw new DownloadError(
          `${url}: the connection broke after ${bytes} of ${expectedSize} bytes (${describeFetchError(cause)})`,
          url,
          "network",
          { expected: `${expectedSize} bytes`, found: `${bytes} bytes`, cause },
        );
      }
      if (chunk.done) break;
      const value = chunk.value;
      bytes += value.length;
      watch.received(bytes);
      if (bytes > expectedSize) {
        await reader.cancel().catch(() => {});
        throw new DownloadError(
          `${url}: received more than the expected ${expectedSize} bytes — not the expected archive`,
          url,
          "size",
          { expected: `${expectedSize} bytes`, found: `more than ${expectedSize} bytes` },
        );
      }
      hash.update(value);
      let written = 0;
      while (written < value.length) {
        const result = await handle.write(value, written, value.length - written).catch((cause: unknown) => {
          throw cacheError("write the archive to", archivePath, cause);
        });
        written += result.bytesWritten;
      }
      report(false);
    }
  } finally {
    await handle.close();
  }
  report(true);
  if (bytes !== expectedSize) {
    throw new DownloadError(
      `${url}: received ${bytes} bytes, expected ${expectedSize} — the download is incomplete`,
      url,
      "size",
      { expected: `${expectedSize} bytes`, found: `${bytes} bytes` },
    );
  }
  const digest = hash.digest("hex");
  if (digest !== expectedSha256) {
    throw new DownloadError(
      `${url}: SHA-256 of the download is ${digest}, expected ${expectedSha256} — the file is corrupt or ` +
        "not the expected archive",
      url,
      "checksum",
      { expected: `sha256 ${expectedSha256}`, found: `sha256 ${digest}` },
    );
  }
}

/** Node's fetch hides the reason (ECONNREFUSED, ENOTFOUND…) in `cause`; surface it. */
function describeFetchError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 4; depth++) {
    const text = errorText(current);
    if (text && !parts.includes(text)) parts.push(text);
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(": ") || "unknown error";
}

/**
 * Typed errors of the datasets package. Every message names the file (and record, where there is one),
 * what was expected and what was found, so a user can act on it without reading the source.
 *
 * They extend the tensor package's `BackpropError`, the one base class of every package's errors (datasets
 * depends on tensor already, for batches as arrays), so `instanceof BackpropError` tells any library error from
 * everything else. Bad arguments (a batch size, a seed, a normalization name) are the tensor package's
 * `ValueError` and `ShapeError`, as in every other package.
 */
import { BackpropError } from "@backprop/tensor";

/** Details attached to a {@link DatasetError}. */
export interface DatasetErrorDetails {
  /** The file (or archive, or archive member) the problem is in. */
  file?: string;
  /** Zero-based record index inside `file`, when the problem is one record. */
  record?: number;
  /** What the reader expected, in words. */
  expected?: string;
  /** What it found instead, in words. */
  found?: string;
  /** The underlying error, if any. */
  cause?: unknown;
}

/** A data file is missing, truncated, corrupt or otherwise not what CIFAR-10 looks like. */
export class DatasetError extends BackpropError {
  override name = "DatasetError";
  readonly file?: string;
  readonly record?: number;
  readonly expected?: string;
  readonly found?: string;

  constructor(message: string, details: DatasetErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.file = details.file;
    this.record = details.record;
    this.expected = details.expected;
    this.found = details.found;
  }
}

/** No CIFAR-10 data anywhere the loader looked. `searched` lists each place and why it did not qualify. */
export class DataNotFoundError extends DatasetError {
  override name = "DataNotFoundError";
  readonly searched: readonly string[];

  constructor(searched: readonly string[], cause?: unknown) {
    super(dataNotFoundMessage(searched), { cause, expected: "CIFAR-10 binary data", found: "none" });
    this.searched = searched;
  }
}

/** Why a download failed. */
export type DownloadFailure = "network" | "http" | "size" | "checksum" | "aborted" | "stalled" | "extract";

/** Downloading (or verifying, or unpacking) the archive failed. Nothing is left in the cache. */
export class DownloadError extends DatasetError {
  override name = "DownloadError";
  readonly url: string;
  readonly reason: DownloadFailure;

  constructor(
    message: string,
    url: string,
    reason: DownloadFailure,
    details: DatasetErrorDetails = {},
  ) {
    super(message, details);
    this.url = url;
    this.reason = reason;
  }
}

function dataNotFoundMessage(searched: readonly string[]): string {
  return [
    "CIFAR-10 data not found. Looked in, in this order:",
    ...searched.map((place, i) => `  ${i + 1}. ${place}`),
    "Point the loader at the data with one of:",
    "  --data_dir <path>          on the command line (the `dataDir` option of loadCifar10 in code)",
    "  BACKPROP_CIFAR10=<path>    in the environment",
    "where <path> is a cifar-10-batches-bin/ folder or a .tar.gz packed like the official archive",
    "(https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz); or give no path and let the loader download",
    "the official archive into the cache (the default unless `download: false`).",
  ].join("\n");
}

/** A short description of an unknown thrown value, for embedding in a message. */
export function errorText(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

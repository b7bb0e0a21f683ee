/**
 * `loadCifar10`: find (or download) the data, read and validate it, preprocess the course's way, and return
 * train / validation / test {@link DataSet}s.
 */
import { ValueError } from "@backprop/tensor";
import type { AugmentOptions } from "./augment.ts";
import { CIFAR10_URL } from "./cifar_format.ts";
import { type Cifar10Raw, readCifar10Archive, readCifar10Folder } from "./cifar_files.ts";
import { DataSet } from "./data_set.ts";
import { downloadCifar10, type DownloadOptions } from "./download.ts";
import { DataNotFoundError, DownloadError } from "./errors.ts";
import { type Cifar10Location, type Environment, findCifar10 } from "./locate.ts";
import {
  type ChannelStats,
  channelStats,
  identityTransform,
  meanImage,
  meanImageTransform,
  type Normalization,
  perChannelTransform,
  type PixelTransform,
} from "./preprocess.ts";

/** Options of {@link loadCifar10}. */
export interface LoadCifar10Options extends DownloadOptions {
  /**
   * Where the data is: a `cifar-10-batches-bin/` folder, a folder holding one, or a `.tar.gz` packed like the
   * official archive. When given, nothing else is searched.
   */
  dataDir?: string;
  /** Download the official archive into the cache when the data is found nowhere else; default true. */
  download?: boolean;
  /** Environment to read BACKPROP_CIFAR10 and XDG_CACHE_HOME from; default the process environment. */
  env?: Environment;
  /** How many of the first training images (unshuffled) become the validation set; default 0. */
  validationSize?: number;
  /** Seed of shuffling and augmentation; default 42. */
  seed?: number;
  /** How images become floats; default "mean-image" (the course's). */
  normalization?: Normalization;
  /** Augmentation of the training set's `nextBatch`; default none. */
  augment?: AugmentOptions;
  /** Device the batches' tensors are made on; default "cpu". */
  device?: string;
}

/** The loaded data set. */
export interface Cifar10 {
  train: DataSet;
  /** The first `validationSize` training images; empty by default. */
  validation: DataSet;
  test: DataSet;
  classNames: readonly string[];
  /** Per-pixel mean of all training images (validation images included, as in the course), CHW float32. */
  meanImage: Float32Array;
  /** Per-channel mean and std of all training images (computed on first call). */
  channelStats(): ChannelStats;
  /** The uint8 → float32 map every split uses. */
  transform: PixelTransform;
  /** Where the data was read from. */
  location: Cifar10Location;
}

/** Shuffle streams of the three splits, so each reshuffles independently of the others. */
const STREAM = { train: 0, validation: 1, test: 2 } as const;

/**
 * Finds, reads, validates and preprocesses CIFAR-10.
 *
 * Looks, in order, at `dataDir`, `$BACKPROP_CIFAR10`, the cache (`$XDG_CACHE_HOME/backprop` or
 * `~/.cache/backprop`), and finally downloads the official archive into the cache (unless `download: false`).
 *
 * @throws DataNotFoundError when there is no data (listing every place looked at), DatasetError for a
 *   missing, truncated or corrupt file, DownloadError for a download that fails its size or checksum check.
 */
export async function loadCifar10(options: LoadCifar10Options = {}): Promise<Cifar10> {
  const location = await locate(options);
  const raw: Cifar10Raw = location.kind === "folder"
    ? await readCifar10Folder(location.path)
    : await readCifar10Archive(location.path);
  return preprocessCifar10(raw, location, options);
}

async function locate(options: LoadCifar10Options): Promise<Cifar10Location> {
  const { location, searched } = await findCifar10(options);
  if (location !== undefined) return location;
  const url = options.url ?? CIFAR10_URL;
  if (options.download === false) {
    throw new DataNotFoundError([...searched, `a download from ${url}: not attempted (download: false)`]);
  }
  try {
    return { kind: "folder", path: await downloadCifar10(options), origin: "download" };
  } catch (cause) {
    // Unreachable, refusing or silent server: that is "no data", reported with everything else that was tried.
    if (cause instanceof DownloadError && (cause.reason === "network" || cause.reason === "http" || cause.reason === "stalled")) {
      const reason = cause.message.startsWith(`${url}: `) ? cause.message.slice(url.length + 2) : cause.message;
      throw new DataNotFoundError([...searched, `a download from ${url}: failed — ${reason}`], cause);
    }
    throw cause;
  }
}

/** Builds the splits from raw data (exported for callers that read the files themselves). */
export function preprocessCifar10(
  raw: Cifar10Raw,
  location: Cifar10Location,
  options: Pick<LoadCifar10Options, "validationSize" | "seed" | "normalization" | "augment" | "device"> = {},
): Cifar10 {
  const validationSize = options.validationSize ?? 0;
  if (!Number.isInteger(validationSize) || validationSize < 0 || validationSize > raw.train.count) {
    throw new ValueError(
      `preprocessCifar10: validationSize must be an integer between 0 and ${raw.train.count} (the training images), got ${validationSize}`,
    );
  }
  const mean = meanImage(raw.train.images, raw.train.count);
  let stats: ChannelStats | undefined;
  const getStats = () => (stats ??= channelStats(raw.train.images, raw.train.count));
  const normalization = options.normalization ?? "mean-image";
  let transform: PixelTransform;
  if (normalization === "mean-image") transform = meanImageTransform(mean);
  else if (normalization === "per-channel") transform = perChannelTransform(getStats());
  else if (normalization === "none") transform = identityTransform();
  else throw new ValueError(`preprocessCifar10: normalization must be "mean-image", "per-channel" or "none", got ${normalization}`);

  const common = { classNames: raw.classNames, transform, seed: options.seed ?? 42, device: options.device };
  const split = validationSize * (raw.train.images.length / raw.train.count);
  return {
    train: new DataSet(raw.train.images.subarray(split), raw.train.labels.subarray(validationSize), {
      ...common,
      stream: STREAM.train,
      augment: options.augment,
    }),
    validation: new DataSet(raw.train.images.subarray(0, split), raw.train.labels.subarray(0, validationSize), {
      ...common,
      stream: STREAM.validation,
    }),
    test: new DataSet(raw.test.images, raw.test.labels, { ...common, stream: STREAM.test }),
    classNames: Object.freeze([...raw.classNames]),
    meanImage: mean,
    channelStats: getStats,
    transform,
    location,
  };
}

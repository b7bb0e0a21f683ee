/**
 * @backprop/datasets — CIFAR-10: find, download, verify, cache, extract, parse, preprocess and batch.
 *
 * ```ts
 * import { loadCifar10 } from "@backprop/datasets";
 * const cifar = await loadCifar10({ validationSize: 5000 });
 * const { images, labels } = cifar.train.nextBatch(200); // [200, 3, 32, 32] float32, [200] int32
 * ```
 * @module
 */
export { type Cifar10, loadCifar10, type LoadCifar10Options, preprocessCifar10 } from "./load_cifar10.ts";
export { type BatchOptions, DataSet, type DataSetOptions, type DataSetState } from "./data_set.ts";
export { Batch, BatchBuffer } from "./batch.ts";
export type { AugmentOptions } from "./augment.ts";
export {
  type ChannelStats,
  channelStats,
  meanImage,
  type Normalization,
  type PixelTransform,
} from "./preprocess.ts";
export { type DownloadClock, downloadCifar10, type DownloadOptions, type DownloadProgress } from "./download.ts";
export {
  type Cifar10Location,
  cachedFolder,
  DATA_ENV_VAR,
  type DataOrigin,
  defaultCacheDir,
  type Environment,
  findCifar10,
  type FindOptions,
  type FindResult,
} from "./locate.ts";
export { type Cifar10Raw, extractCifar10Archive, readCifar10Archive, readCifar10Folder } from "./cifar_files.ts";
export {
  CIFAR10_ARCHIVE_SHA256,
  CIFAR10_ARCHIVE_SIZE,
  CIFAR10_CLASS_NAMES,
  CIFAR10_FOLDER,
  CIFAR10_URL,
  IMAGE_BYTES,
  parseBatch,
  type RawImages,
  RECORD_BYTES,
  TEST_FILE,
  TRAIN_FILES,
} from "./cifar_format.ts";
export { readTar, type TarEntry, type TarEntryType } from "./tar.ts";
export { type GeneratorState, Xoshiro128 } from "./random.ts";
export {
  DataNotFoundError,
  DatasetError,
  type DatasetErrorDetails,
  DownloadError,
  type DownloadFailure,
} from "./errors.ts";

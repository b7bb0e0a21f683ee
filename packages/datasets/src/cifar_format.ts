/**
 * The CIFAR-10 binary format: what the official `cifar-10-binary.tar.gz` holds and how a record is laid out.
 * Each record is 1 label byte (0–9) followed by 3,072 pixel bytes: the 1,024 red values of the 32×32 image
 * (row-major), then green, then blue — already channel-major (CHW), so an image is one contiguous slice.
 */
import { DatasetError } from "./errors.ts";

export const IMAGE_HEIGHT = 32;
export const IMAGE_WIDTH = 32;
export const IMAGE_CHANNELS = 3;
/** Pixel bytes per image (3 × 32 × 32). */
export const IMAGE_BYTES = IMAGE_CHANNELS * IMAGE_HEIGHT * IMAGE_WIDTH;
/** Bytes per record: one label byte, then the image. */
export const RECORD_BYTES = 1 + IMAGE_BYTES;
export const NUM_CLASSES = 10;

/** Class names in label order (as in `batches.meta.txt`). */
export const CIFAR10_CLASS_NAMES: readonly string[] = Object.freeze([
  "airplane",
  "automobile",
  "bird",
  "cat",
  "deer",
  "dog",
  "frog",
  "horse",
  "ship",
  "truck",
]);

/** The folder the official archive unpacks to. */
export const CIFAR10_FOLDER = "cifar-10-batches-bin";
/** The training files, in the order their records are concatenated. */
export const TRAIN_FILES: readonly string[] = Object.freeze([1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`));
export const TEST_FILE = "test_batch.bin";
export const META_FILE = "batches.meta.txt";
/** Every file a complete data set must have. */
export const REQUIRED_FILES: readonly string[] = Object.freeze([...TRAIN_FILES, TEST_FILE]);

/** The official archive: where it lives, its size in bytes and its SHA-256. */
export const CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
export const CIFAR10_ARCHIVE_SIZE = 170_052_171;
export const CIFAR10_ARCHIVE_SHA256 = "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd";
export const CIFAR10_ARCHIVE_NAME = "cifar-10-binary.tar.gz";

/** Images and labels of one split (or one file), kept as raw bytes. */
export interface RawImages {
  /** `count × 3072` bytes, CHW per image. */
  images: Uint8Array;
  /** `count` labels, each 0–9. */
  labels: Uint8Array;
  count: number;
}

/** Checks that `byteLength` is a whole, non-zero number of records and returns how many. */
export function recordCount(byteLength: number, file: string): number {
  if (byteLength === 0 || byteLength % RECORD_BYTES !== 0) {
    const whole = Math.floor(byteLength / RECORD_BYTES);
    const extra = byteLength % RECORD_BYTES;
    throw new DatasetError(
      `${file}: size ${byteLength} bytes is not a positive multiple of the ${RECORD_BYTES}-byte record size` +
        (byteLength === 0 ? " (the file is empty)" : ` (${whole} whole records and ${extra} bytes over)`) +
        " — the file is truncated or not a CIFAR-10 binary batch",
      {
        file,
        record: byteLength === 0 ? undefined : whole,
        expected: `a positive multiple of ${RECORD_BYTES} bytes`,
        found: `${byteLength} bytes`,
      },
    );
  }
  return byteLength / RECORD_BYTES;
}

/**
 * Copies the records of one batch file into `images`/`labels` starting at record `at`, validating every label.
 * Returns the number of records copied.
 */
export function parseRecordsInto(
  bytes: Uint8Array,
  file: string,
  images: Uint8Array,
  labels: Uint8Array,
  at = 0,
): number {
  const count = recordCount(bytes.length, file);
  const recordBytes = RECORD_BYTES, imageBytes = IMAGE_BYTES, classes = NUM_CLASSES; // locals for the loop
  for (let r = 0; r < count; r++) {
    const offset = r * recordBytes;
    const label = bytes[offset];
    if (label >= classes) {
      throw new DatasetError(
        `${file}: record ${r} (byte offset ${offset}) has label ${label}, expected 0–${NUM_CLASSES - 1} ` +
          "— the file is corrupt or not a CIFAR-10 binary batch",
        { file, record: r, expected: `a label 0–${NUM_CLASSES - 1}`, found: `label ${label}` },
      );
    }
    labels[at + r] = label;
    images.set(bytes.subarray(offset + 1, offset + recordBytes), (at + r) * imageBytes);
  }
  return count;
}

/** Parses one whole batch file into fresh arrays. */
export function parseBatch(bytes: Uint8Array, file: string): RawImages {
  const count = recordCount(bytes.length, file);
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Uint8Array(count);
  parseRecordsInto(bytes, file, images, labels);
  return { images, labels, count };
}

/** Concatenates several parsed files in order. */
export function concatRaw(parts: readonly RawImages[]): RawImages {
  if (parts.length === 1) return parts[0];
  const count = parts.reduce((n, p) => n + p.count, 0);
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Uint8Array(count);
  let at = 0;
  for (const part of parts) {
    images.set(part.images, at * IMAGE_BYTES);
    labels.set(part.labels, at);
    at += part.count;
  }
  return { images, labels, count };
}

/** Parses `batches.meta.txt`: ten non-empty class names, one per line. */
export function parseClassNames(text: string, file: string): string[] {
  const names = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== "");
  if (names.length !== NUM_CLASSES) {
    throw new DatasetError(
      `${file}: expected ${NUM_CLASSES} class names, one per line, found ${names.length}`,
      { file, expected: `${NUM_CLASSES} names`, found: `${names.length} names` },
    );
  }
  return names;
}

/** The known file a path inside an archive or folder refers to, by its last path component. */
export function knownFileName(path: string): string | undefined {
  const base = path.replace(/\/+$/, "").split("/").pop() ?? "";
  return REQUIRED_FILES.includes(base) || base === META_FILE ? base : undefined;
}

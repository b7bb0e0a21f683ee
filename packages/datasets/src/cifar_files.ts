/**
 * Reading CIFAR-10 from where it lies: an unpacked `cifar-10-batches-bin/` folder, or a `.tar.gz` packed like the
 * official download (read in memory, streaming), and unpacking such an archive into a folder.
 * Everything is validated; a missing, truncated or corrupt file is a DatasetError naming it.
 */
import { mkdir, mkdtemp, open, readFile, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import {
  CIFAR10_CLASS_NAMES,
  concatRaw,
  IMAGE_BYTES,
  knownFileName,
  META_FILE,
  parseBatch,
  parseClassNames,
  parseRecordsInto,
  type RawImages,
  recordCount,
  REQUIRED_FILES,
  TEST_FILE,
  TRAIN_FILES,
} from "./cifar_format.ts";
import { DatasetError, errorText } from "./errors.ts";
import { openTarStream } from "./streams.ts";
import { readTar } from "./tar.ts";

/** The whole data set as raw bytes, before any preprocessing. */
export interface Cifar10Raw {
  /** The records of data_batch_1.bin … data_batch_5.bin, in file order. */
  train: RawImages;
  /** The records of test_batch.bin. */
  test: RawImages;
  /** From batches.meta.txt when present, else the standard names. */
  classNames: string[];
}

function missingFiles(where: string, missing: readonly string[], file: string): DatasetError {
  return new DatasetError(
    `${where}: missing ${missing.join(", ")} — CIFAR-10 binary data holds ${TRAIN_FILES.join(", ")} and ` +
      `${TEST_FILE}`,
    { file, expected: REQUIRED_FILES.join(", "), found: `no ${missing.join(", ")}` },
  );
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    const info = await stat(path);
    return info.isFile() ? info.size : undefined;
  } catch {
    return undefined;
  }
}

async function readWhole(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (cause) {
    throw new DatasetError(`${path}: cannot read (${errorText(cause)})`, { file: path, cause });
  }
}

/** Reads and validates an unpacked `cifar-10-batches-bin/` folder. */
export async function readCifar10Folder(dir: string): Promise<Cifar10Raw> {
  const sizes = new Map<string, number>();
  const missing: string[] = [];
  for (const name of REQUIRED_FILES) {
    const size = await fileSize(join(dir, name));
    if (size === undefined) missing.push(name);
    else sizes.set(name, size);
  }
  if (missing.length > 0) throw missingFiles(dir, missing, join(dir, missing[0]));

  // Size every file first, so a truncated file fails before anything large is read.
  const counts = TRAIN_FILES.map((name) => recordCount(sizes.get(name)!, join(dir, name)));
  recordCount(sizes.get(TEST_FILE)!, join(dir, TEST_FILE));

  // Read the training files straight into one array: no second copy of the training set.
  const total = counts.reduce((a, b) => a + b, 0);
  const train: RawImages = {
    images: new Uint8Array(total * IMAGE_BYTES),
    labels: new Uint8Array(total),
    count: total,
  };
  let at = 0;
  for (const name of TRAIN_FILES) {
    const path = join(dir, name);
    at += parseRecordsInto(await readWhole(path), path, train.images, train.labels, at);
  }
  if (at !== total) {
    throw new DatasetError(`${dir}: the training files changed size while being read`, { file: dir });
  }
  const testPath = join(dir, TEST_FILE);
  const test = parseBatch(await readWhole(testPath), testPath);

  const metaPath = join(dir, META_FILE);
  const classNames = (await fileSize(metaPath)) === undefined
    ? [...CIFAR10_CLASS_NAMES]
    : parseClassNames(new TextDecoder().decode(await readWhole(metaPath)), metaPath);
  return { train, test, classNames };
}

/** The name used for an archive member in messages. */
function memberLabel(member: string, archive: string): string {
  return `${member} in ${archive}`;
}

/**
 * Reads and validates a `.tar.gz` (or plain `.tar`) packed like the official archive, streaming: the
 * archive is never unpacked to disk and only one member is buffered at a time.
 */
export async function readCifar10Archive(archivePath: string): Promise<Cifar10Raw> {
  const parts = new Map<string, RawImages>();
  let classNames: string[] | undefined;
  for await (const entry of readTar(await openTarStream(archivePath), archivePath)) {
    const known = entry.type === "file" ? knownFileName(entry.name) : undefined;
    if (known === undefined) continue;
    const label = memberLabel(entry.name, archivePath);
    if (parts.has(known) || (known === META_FILE && classNames !== undefined)) {
      throw new DatasetError(`${archivePath}: holds ${known} more than once`, {
        file: label,
        expected: `one ${known}`,
        found: "two or more",
      });
    }
    if (known === META_FILE) {
      classNames = parseClassNames(new TextDecoder().decode(await entry.bytes()), label);
      continue;
    }
    recordCount(entry.size, label);
    parts.set(known, parseBatch(await entry.bytes(), label));
  }
  const missing = REQUIRED_FILES.filter((name) => !parts.has(name));
  if (missing.length > 0) throw missingFiles(archivePath, missing, archivePath);
  return {
    train: concatRaw(TRAIN_FILES.map((name) => parts.get(name)!)),
    test: parts.get(TEST_FILE)!,
    classNames: classNames ?? [...CIFAR10_CLASS_NAMES],
  };
}

/**
 * Unpacks the CIFAR-10 members of an archive into `destDir` (flat: `destDir/data_batch_1.bin` …), streaming.
 * Only the known file names are written, whatever paths the archive uses, so a hostile archive cannot write
 * outside `destDir`. Checks every batch size and that all required files were there.
 *
 * All or nothing: the files are written to a temporary sibling folder that is renamed to `destDir` only when
 * everything checked out, and removed otherwise. `destDir` must not exist yet (or be empty).
 */
export async function extractCifar10Archive(archivePath: string, destDir: string): Promise<void> {
  const dest = resolve(destDir);
  await mkdir(dirname(dest), { recursive: true });
  const temp = await mkdtemp(join(dirname(dest), `.${basename(dest)}.partial-`));
  try {
    await extractInto(archivePath, temp);
    try {
      await rename(temp, dest);
    } catch (cause) {
      throw new DatasetError(`${dest}: cannot move the unpacked files into place (${errorText(cause)})`, {
        file: dest,
        expected: "a folder that does not exist yet",
        found: errorText(cause),
        cause,
      });
    }
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

async function extractInto(archivePath: string, destDir: string): Promise<void> {
  const written = new Set<string>();
  for await (const entry of readTar(await openTarStream(archivePath), archivePath)) {
    const known = entry.type === "file" ? knownFileName(entry.name) : undefined;
    if (known === undefined || written.has(known)) continue;
    const label = memberLabel(entry.name, archivePath);
    if (known !== META_FILE) recordCount(entry.size, label);
    const handle = await open(join(destDir, known), "w");
    try {
      for await (const chunk of entry.body()) {
        let done = 0;
        while (done < chunk.length) {
          const { bytesWritten } = await handle.write(chunk, done, chunk.length - done);
          done += bytesWritten;
        }
      }
    } finally {
      await handle.close();
    }
    written.add(known);
  }
  const missing = REQUIRED_FILES.filter((name) => !written.has(name));
  if (missing.length > 0) throw missingFiles(archivePath, missing, archivePath);
}

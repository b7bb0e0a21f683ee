// Everything the package throws is a BackpropError (the tensor package's base class, shared by every package),
// so a program tells the library's errors from everything else with one instanceof.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { BackpropError, ShapeError, ValueError } from "@backprop/tensor";
import * as api from "../src/mod.ts";
import { DataSet, DatasetError, downloadCifar10, meanImage, readCifar10Folder, Xoshiro128 } from "../src/mod.ts";

test("every exported error class extends BackpropError and is named after itself", () => {
  const classes = Object.entries(api as Record<string, unknown>).filter(
    (entry): entry is [string, new (...args: never[]) => Error] =>
      typeof entry[1] === "function" && entry[1].prototype instanceof Error,
  );
  expect(classes.map(([name]) => name).sort()).toEqual(["DataNotFoundError", "DatasetError", "DownloadError"]);
  const made: Record<string, Error> = {
    DatasetError: new api.DatasetError("message", { file: "data_batch_1.bin" }),
    DataNotFoundError: new api.DataNotFoundError(["nowhere"]),
    DownloadError: new api.DownloadError("message", "https://example.invalid/cifar.tar.gz", "network"),
  };
  for (const [name] of classes) {
    expect(made[name]).toBeInstanceOf(BackpropError);
    expect(made[name]!.name).toBe(name);
  }
});

test("bad arguments are the tensor package's ValueError and ShapeError, naming the function", () => {
  expect(() => new Xoshiro128(1.5)).toThrow(new ValueError("Xoshiro128: seed must be a safe integer, got 1.5"));
  expect(() => new Xoshiro128(1).setState([0, 0, 0, 0])).toThrow(ValueError);
  expect(() => meanImage(new Uint8Array(0), 0)).toThrow(new ValueError("meanImage: expected at least one image, got 0"));
  expect(() => new DataSet(new Uint8Array(5), new Uint8Array(1))).toThrow(ShapeError);
  expect(() => new DataSet(new Uint8Array(3072), new Uint8Array([10]))).toThrow(ValueError);
});

test("bad files and an unwritable cache are DatasetErrors naming the path", async () => {
  const dir = await mkdtemp(join(tmpdir(), "backprop-errors-"));
  try {
    await expect(readCifar10Folder(dir)).rejects.toThrow(DatasetError);
    const notAFolder = join(dir, "file");
    await writeFile(notAFolder, "x");
    const failed = downloadCifar10({ cacheDir: join(notAFolder, "cache"), url: "http://127.0.0.1:9/none" });
    await expect(failed).rejects.toThrow(DatasetError);
    await expect(failed).rejects.toThrow(`downloadCifar10: cannot create a download folder in ${join(notAFolder, "cache")}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

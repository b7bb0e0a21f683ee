import { mkdir, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { DataNotFoundError, defaultCacheDir, DownloadError, findCifar10, loadCifar10 } from "../src/mod.ts";
import { fabricatedFiles, gzip, makeTar, tempDir } from "./helpers.ts";

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ path: dir, cleanup } = await tempDir());
});
afterEach(() => cleanup());

async function dataFolder(parent: string, perFile = 4): Promise<string> {
  const folder = join(parent, "cifar-10-batches-bin");
  await mkdir(folder, { recursive: true });
  for (const [name, data] of Object.entries(fabricatedFiles(perFile))) await writeFile(join(folder, name), data);
  return folder;
}

async function archive(path: string, perFile = 3): Promise<string> {
  const files = Object.entries(fabricatedFiles(perFile));
  await writeFile(path, gzip(makeTar(files.map(([name, data]) => ({ name: `cifar-10-batches-bin/${name}`, data })))));
  return path;
}

describe("findCifar10", () => {
  test("an explicit folder, its parent, or an archive", async () => {
    const folder = await dataFolder(join(dir, "a"));
    const env = {};
    expect((await findCifar10({ dataDir: folder, env })).location).toEqual({ kind: "folder", path: folder, origin: "dataDir" });
    expect((await findCifar10({ dataDir: join(dir, "a"), env })).location?.path).toBe(folder);
    const tgz = await archive(join(dir, "c.tar.gz"));
    expect((await findCifar10({ dataDir: tgz, env })).location).toEqual({ kind: "archive", path: tgz, origin: "dataDir" });
  });

  test("dataDir wins over BACKPROP_CIFAR10, which wins over the cache", async () => {
    const explicit = await dataFolder(join(dir, "explicit"));
    const fromEnv = await dataFolder(join(dir, "env"));
    const cacheDir = join(dir, "cache");
    const cached = await dataFolder(cacheDir);
    const env = { BACKPROP_CIFAR10: fromEnv };
    expect((await findCifar10({ dataDir: explicit, cacheDir, env })).location?.path).toBe(explicit);
    expect((await findCifar10({ cacheDir, env })).location).toMatchObject({ path: fromEnv, origin: "env" });
    expect((await findCifar10({ cacheDir, env: {} })).location).toMatchObject({ path: cached, origin: "cache" });
    const xdg = join(dir, "xdg");
    await dataFolder(join(xdg, "backprop"));
    expect((await findCifar10({ env: { XDG_CACHE_HOME: xdg } })).location?.origin).toBe("cache");
  });

  test("an explicit path or BACKPROP_CIFAR10 that holds no data is an error, not a fallback", async () => {
    const cacheDir = join(dir, "cache");
    await dataFolder(cacheDir);
    const missing = join(dir, "nowhere");
    const error = await findCifar10({ dataDir: missing, cacheDir, env: {} }).catch((e) => e);
    expect(error).toBeInstanceOf(DataNotFoundError);
    expect(error.message).toContain(`the dataDir option: ${missing} — does not exist`);
    await mkdir(join(dir, "empty"));
    const fromEnv = await findCifar10({ cacheDir, env: { BACKPROP_CIFAR10: join(dir, "empty") } }).catch((e) => e);
    expect(fromEnv).toBeInstanceOf(DataNotFoundError);
    expect(fromEnv.message).toMatch(/BACKPROP_CIFAR10=.*empty — is a folder without data_batch_1\.bin/);
  });

  test("the default cache folder follows XDG_CACHE_HOME, else ~/.cache", () => {
    expect(defaultCacheDir({ XDG_CACHE_HOME: "/x/cache", HOME: "/home/u" })).toBe("/x/cache/backprop");
    expect(defaultCacheDir({ XDG_CACHE_HOME: "relative", HOME: "/home/u" })).toBe("/home/u/.cache/backprop");
    expect(defaultCacheDir({ HOME: "/home/u" })).toBe("/home/u/.cache/backprop");
  });
});

describe("no data anywhere", () => {
  test("one error lists every place looked at and how to point at data", async () => {
    const cacheDir = join(dir, "cache");
    const error = await loadCifar10({ cacheDir, env: {}, download: false }).catch((e) => e);
    expect(error).toBeInstanceOf(DataNotFoundError);
    expect(error.searched).toHaveLength(4);
    expect(error.message).toContain("1. the dataDir option (--data_dir): not given");
    expect(error.message).toContain("2. the BACKPROP_CIFAR10 environment variable: not set");
    expect(error.message).toContain(`3. the cache: ${join(cacheDir, "cifar-10-batches-bin")} — does not exist`);
    expect(error.message).toContain("4. a download from https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz: not attempted");
    expect(error.message).toContain("--data_dir <path>");
    expect(error.message).toContain("BACKPROP_CIFAR10=<path>");
  });

  test("an unreachable download server is reported the same way, with the network error", async () => {
    // A port that was just free: connecting to it is refused.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise((resolve) => server.close(resolve));
    const url = `http://127.0.0.1:${port}/cifar-10-binary.tar.gz`;
    const cacheDir = join(dir, "cache");
    const error = await loadCifar10({ cacheDir, env: {}, url }).catch((e) => e);
    expect(error).toBeInstanceOf(DataNotFoundError);
    expect(error.message).toMatch(new RegExp(`4\\. a download from ${url}: failed — .*cannot connect`));
    expect(error.cause).toBeInstanceOf(DownloadError);
    expect(error.cause.reason).toBe("network");
  });
});

describe("loadCifar10 from fabricated data", () => {
  test("reads a folder and an archive to the same data", async () => {
    const folder = await dataFolder(dir, 3);
    const tgz = await archive(join(dir, "same.tar.gz"), 3);
    const a = await loadCifar10({ dataDir: folder, env: {}, download: false });
    const b = await loadCifar10({ dataDir: tgz, env: {}, download: false });
    expect(a.location.kind).toBe("folder");
    expect(b.location.kind).toBe("archive");
    expect(a.train.numExamples).toBe(15);
    expect(a.train.rawLabels).toEqual(b.train.rawLabels);
    expect(a.meanImage).toEqual(b.meanImage);
  });
});

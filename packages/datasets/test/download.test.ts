import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { createServer, type Server, type ServerResponse } from "node:http";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import {
  DataNotFoundError,
  type DownloadClock,
  downloadCifar10,
  DownloadError,
  type DownloadProgress,
  loadCifar10,
} from "../src/mod.ts";
import { fabricatedFiles, gzip, HAS_MINI, makeTar, MINI_ARCHIVE, tempDir } from "./helpers.ts";

// Serve the shared mini archive when it is there; otherwise a fabricated archive packed the same way.
const payload: Uint8Array = HAS_MINI
  ? new Uint8Array(await readFile(MINI_ARCHIVE))
  : gzip(makeTar(Object.entries(fabricatedFiles(30)).map(([name, data]) => ({ name: `cifar-10-batches-bin/${name}`, data }))));
const trainCount = HAS_MINI ? 5000 : 150;
const sha256 = createHash("sha256").update(payload).digest("hex");
const size = payload.length;
if (!HAS_MINI) console.log(`download tests serve a fabricated archive: ${MINI_ARCHIVE} not found`);

/** A clock that moves only when the test advances it, so no outcome depends on how busy the machine is. */
class ManualClock implements DownloadClock {
  #now = 0;
  #timers = new Set<{ at: number; callback: () => void }>();
  now(): number {
    return this.#now;
  }
  schedule(ms: number, callback: () => void): () => void {
    const timer = { at: this.#now + ms, callback };
    this.#timers.add(timer);
    return () => this.#timers.delete(timer);
  }
  advance(ms: number) {
    this.#now += ms;
    for (const timer of [...this.#timers]) {
      if (timer.at <= this.#now && this.#timers.delete(timer)) timer.callback();
    }
  }
}

/** Responses of the paced routes, handed to the test that sends their bodies piece by piece. */
const pacedResponses: ((response: ServerResponse) => void)[] = [];
function nextPacedResponse(): Promise<ServerResponse> {
  return new Promise((resolve) => pacedResponses.push(resolve));
}

/** Collects progress reports and resolves when the client has taken in at least a given byte count. */
class ProgressLog {
  readonly reports: DownloadProgress[] = [];
  #waiting: { bytes: number; resolve: () => void }[] = [];
  readonly onProgress = (p: DownloadProgress) => {
    this.reports.push(p);
    this.#waiting = this.#waiting.filter((w) => p.bytes < w.bytes || void w.resolve());
  };
  reached(bytes: number): Promise<void> {
    if ((this.reports.at(-1)?.bytes ?? 0) >= bytes) return Promise.resolve();
    return new Promise((resolve) => this.#waiting.push({ bytes, resolve }));
  }
}

let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer((request, response) => {
    const route = request.url ?? "";
    if (route === "/ok.tar.gz") {
      response.writeHead(200, { "content-length": size });
      // Several writes, so the client sees the body arrive in pieces.
      const step = Math.ceil(size / 7);
      for (let at = 0; at < size; at += step) response.write(payload.subarray(at, at + step));
      response.end();
    } else if (route === "/cut.tar.gz") {
      response.writeHead(200, { "content-length": size });
      response.write(payload.subarray(0, Math.floor(size / 3)), () => {
        setTimeout(() => response.socket?.destroy(), 20);
      });
    } else if (route === "/short-chunked.tar.gz") {
      response.writeHead(200, { "transfer-encoding": "chunked" });
      response.end(payload.subarray(0, Math.floor(size / 2)));
    } else if (route === "/stall.tar.gz") {
      response.writeHead(200, { "content-length": size });
      response.write(payload.subarray(0, 1000));
    } else if (route === "/paced.tar.gz") {
      // The headers now; the body as the test sends it.
      response.writeHead(200, { "content-length": size });
      response.flushHeaders();
      pacedResponses.shift()!(response);
    } else if (route === "/silent.tar.gz") {
      // Accepts the connection and never answers; the test hears of the request.
      pacedResponses.shift()!(response);
    } else {
      response.writeHead(404, "Not Found");
      response.end("no such file");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ path: dir, cleanup } = await tempDir());
});
afterEach(() => cleanup());

async function expectEmptyCache(cacheDir: string) {
  expect(await readdir(cacheDir)).toEqual([]);
}

describe("downloadCifar10 from a local server", () => {
  test("downloads, verifies and unpacks into the cache, reporting progress; later loads find the cache", async () => {
    const cacheDir = join(dir, "cache");
    const progress: DownloadProgress[] = [];
    const cifar = await loadCifar10({
      url: `${base}/ok.tar.gz`,
      cacheDir,
      sha256,
      size,
      env: {},
      onProgress: (p) => progress.push(p),
      progressIntervalMs: 0,
    });
    expect(cifar.location).toEqual({ kind: "folder", path: join(cacheDir, "cifar-10-batches-bin"), origin: "download" });
    expect(cifar.train.numExamples).toBe(trainCount);
    // Only the unpacked folder remains: no archive, no temporary folder.
    expect(await readdir(cacheDir)).toEqual(["cifar-10-batches-bin"]);
    expect((await stat(join(cacheDir, "cifar-10-batches-bin", "test_batch.bin"))).size).toBe((trainCount / 5) * 3073);

    expect(progress.length).toBeGreaterThan(1);
    const last = progress.at(-1)!;
    expect(last.bytes).toBe(size);
    expect(last.total).toBe(size);
    expect(last.rate).toBeGreaterThan(0);
    for (let i = 1; i < progress.length; i++) expect(progress[i].bytes).toBeGreaterThanOrEqual(progress[i - 1].bytes);

    const again = await loadCifar10({ cacheDir, env: {}, download: false });
    expect(again.location.origin).toBe("cache");
    expect(again.train.rawLabels).toEqual(cifar.train.rawLabels);
  });

  test("a wrong checksum fails with both hashes and leaves nothing in the cache", async () => {
    const cacheDir = join(dir, "cache");
    const wrong = "0".repeat(64);
    const error = await downloadCifar10({ url: `${base}/ok.tar.gz`, cacheDir, sha256: wrong, size }).catch((e) => e);
    expect(error).toBeInstanceOf(DownloadError);
    expect(error.reason).toBe("checksum");
    expect(error.message).toContain(`SHA-256 of the download is ${sha256}, expected ${wrong}`);
    await expectEmptyCache(cacheDir);
    // loadCifar10 passes integrity failures on as they are.
    const viaLoad = await loadCifar10({ url: `${base}/ok.tar.gz`, cacheDir, sha256: wrong, size, env: {} })
      .catch((e) => e);
    expect(viaLoad).toBeInstanceOf(DownloadError);
    await expectEmptyCache(cacheDir);
  });

  test("a wrong announced size fails before downloading", async () => {
    const cacheDir = join(dir, "cache");
    const error = await downloadCifar10({ url: `${base}/ok.tar.gz`, cacheDir, sha256, size: size + 1 })
      .catch((e) => e);
    expect(error).toBeInstanceOf(DownloadError);
    expect(error.reason).toBe("size");
    expect(error.message).toContain(`the server announces ${size} bytes, expected ${size + 1}`);
    await expectEmptyCache(cacheDir);
  });

  test("a connection cut mid-way fails with the byte counts and leaves nothing in the cache", async () => {
    const cacheDir = join(dir, "cache");
    const error = await downloadCifar10({ url: `${base}/cut.tar.gz`, cacheDir, sha256, size }).catch((e) => e);
    expect(error).toBeInstanceOf(DownloadError);
    expect(error.reason).toBe("network");
    expect(error.message).toMatch(new RegExp(`the connection broke after \\d+ of ${size} bytes`));
    await expectEmptyCache(cacheDir);
  });

  test("a response that ends early without a length is incomplete", async () => {
    const cacheDir = join(dir, "cache");
    const error = await downloadCifar10({ url: `${base}/short-chunked.tar.gz`, cacheDir, sha256, size })
      .catch((e) => e);
    expect(error).toBeInstanceOf(DownloadError);
    expect(error.reason).toBe("size");
    expect(error.message).toContain(`received ${Math.floor(size / 2)} bytes, expected ${size} — the download is incomplete`);
    await expectEmptyCache(cacheDir);
  });

  test("an HTTP error is a DownloadError, and for loadCifar10 a DataNotFoundError", async () => {
    const cacheDir = join(dir, "cache");
    const error = await downloadCifar10({ url: `${base}/missing.tar.gz`, cacheDir, sha256, size }).catch((e) => e);
    expect(error).toBeInstanceOf(DownloadError);
    expect(error.reason).toBe("http");
    expect(error.message).toContain("the server answered HTTP 404 Not Found");
    const viaLoad = await loadCifar10({ url: `${base}/missing.tar.gz`, cacheDir, env: {} }).catch((e) => e);
    expect(viaLoad).toBeInstanceOf(DataNotFoundError);
    expect(viaLoad.message).toContain("HTTP 404");
    await expectEmptyCache(cacheDir);
  });

  test("a server that stops sending mid-way fails as stalled when the clock reaches the timeout", async () => {
    const cacheDir = join(dir, "cache");
    const clock = new ManualClock();
    const progress = new ProgressLog();
    const arrived = nextPacedResponse();
    let settled = false;
    const pending = downloadCifar10({
      url: `${base}/paced.tar.gz`,
      cacheDir,
      sha256,
      size,
      stallTimeoutMs: 300,
      clock,
      onProgress: progress.onProgress,
      progressIntervalMs: 0,
    }).catch((e) => e).finally(() => settled = true);
    const response = await arrived;
    response.write(payload.subarray(0, 1000));
    await progress.reached(1000);
    // Just under the timeout, then one more piece: the download is still going.
    clock.advance(299);
    response.write(payload.subarray(1000, 2000));
    await Promise.race([progress.reached(2000), pending]);
    expect(settled).toBe(false);
    clock.advance(300);
    const error = await pending;
    expect(error).toBeInstanceOf(DownloadError);
    expect(error.reason).toBe("stalled");
    expect(error.message).toContain(`no data for 0.3 s after 2000 of ${size} bytes — the connection stalled`);
    response.destroy();
    await expectEmptyCache(cacheDir);
  });

  test("a server that never answers fails as stalled when the clock reaches the timeout", async () => {
    const cacheDir = join(dir, "cache");
    const clock = new ManualClock();
    const arrived = nextPacedResponse();
    const pending = downloadCifar10({ url: `${base}/silent.tar.gz`, cacheDir, sha256, size, stallTimeoutMs: 300, clock })
      .catch((e) => e);
    // The watchdog starts before the request is sent, so once the server has the request it is running.
    const response = await arrived;
    clock.advance(300);
    const error = await pending;
    expect(error).toBeInstanceOf(DownloadError);
    expect(error.reason).toBe("stalled");
    expect(error.message).toMatch(/no data for 0.3 s after 0 of \d+ bytes — the connection stalled/);
    response.destroy();
    await expectEmptyCache(cacheDir);
  });

  test("a steady download slower than the stall timeout in total completes, and its rate follows the clock", async () => {
    const cacheDir = join(dir, "cache");
    const clock = new ManualClock();
    const progress = new ProgressLog();
    const arrived = nextPacedResponse();
    const pending = downloadCifar10({
      url: `${base}/paced.tar.gz`,
      cacheDir,
      sha256,
      size,
      stallTimeoutMs: 300,
      clock,
      onProgress: progress.onProgress,
      progressIntervalMs: 0,
    });
    const response = await arrived;
    // Seven pieces, 299 ms of the clock before each after the first: 1.794 s in all, six times the timeout.
    const step = Math.ceil(size / 7);
    for (let at = 0; at < size; at += step) {
      if (at > 0) clock.advance(299);
      response.write(payload.subarray(at, at + step));
      // A stall would end the download instead, and fail the test with its error.
      await Promise.race([progress.reached(Math.min(at + step, size)), pending]);
    }
    response.end();
    expect(await pending).toBe(join(cacheDir, "cifar-10-batches-bin"));
    const last = progress.reports.at(-1)!;
    expect(last.bytes).toBe(size);
    expect(last.rate).toBeCloseTo(size / 1.794, 6);
  });

  test("an aborted download stops and leaves nothing in the cache", async () => {
    const cacheDir = join(dir, "cache");
    const controller = new AbortController();
    const pending = downloadCifar10({
      url: `${base}/stall.tar.gz`,
      cacheDir,
      sha256,
      size,
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    const error = await pending.catch((e) => e);
    expect(error).toBeInstanceOf(DownloadError);
    expect(error.reason).toBe("aborted");
    await expectEmptyCache(cacheDir);
  });
});

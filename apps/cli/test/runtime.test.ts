import { existsSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { highWaterMark, PeakRss } from "../src/runtime.ts";

describe("PeakRss", () => {
  test.skipIf(!existsSync("/proc/self/status"))("reads Linux's high-water mark, which is at least the current rss", () => {
    const hwm = highWaterMark();
    expect(hwm).toBeGreaterThan(0);
    expect(hwm!).toBeGreaterThanOrEqual(process.memoryUsage().rss - 1024 * 1024);
    expect(new PeakRss().sample()).toBeGreaterThanOrEqual(hwm!);
  });

  test("a peak of an earlier process (a resumed run's) counts; a missing one is ignored", () => {
    const rss = new PeakRss();
    rss.include(Number.NaN);
    expect(rss.bytes).toBe(0);
    rss.include(2 ** 50);
    expect(rss.sample()).toBe(2 ** 50);
    const now = new PeakRss().sample();
    rss.include(1);
    expect(rss.bytes).toBe(2 ** 50);
    expect(now).toBeLessThan(2 ** 50);
  });
});

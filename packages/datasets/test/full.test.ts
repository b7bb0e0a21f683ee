/** The full shared data set: counts, class balance and channel statistics. Runs only when the data is present. */
import { describe, expect, test } from "vitest";
import { loadCifar10 } from "../src/mod.ts";
import { FULL_FOLDER, HAS_FULL, skipNotice } from "./helpers.ts";

describe.skipIf(skipNotice(HAS_FULL, "the full-data-set test", FULL_FOLDER))("the full data set", () => {
  test("50,000 / 10,000 images, 5,000 / 1,000 per class, and the documented channel statistics", async () => {
    const cifar = await loadCifar10({ dataDir: FULL_FOLDER, env: {}, download: false });
    expect(cifar.train.numExamples).toBe(50_000);
    expect(cifar.test.numExamples).toBe(10_000);
    expect(cifar.train.labelCounts()).toEqual(new Array(10).fill(5000));
    expect(cifar.test.labelCounts()).toEqual(new Array(10).fill(1000));
    // Channel means from the per-pixel mean image; the data's README gives 125.3 / 122.9 / 113.9.
    const channelMean = (c: number) =>
      cifar.meanImage.subarray(c * 1024, (c + 1) * 1024).reduce((a, b) => a + b, 0) / 1024;
    expect(channelMean(0)).toBeCloseTo(125.3, 1);
    expect(channelMean(1)).toBeCloseTo(122.9, 1);
    expect(channelMean(2)).toBeCloseTo(113.9, 1);
    const stats = cifar.channelStats();
    expect(stats.mean[1]).toBeCloseTo(122.9, 1);
    expect(stats.std[0]).toBeCloseTo(62.5, 1);
    expect(stats.std[1]).toBeCloseTo(61.9, 1);
    expect(stats.std[2]).toBeCloseTo(66.5, 1);
    const batch = cifar.train.nextBatch(200);
    expect(batch.imagesF32.length).toBe(200 * 3072);
  }, 30_000); // about 1 s alone; generous for a busy machine
});

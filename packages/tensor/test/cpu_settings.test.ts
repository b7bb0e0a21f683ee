// The CPU backend's public settings: thread count and relaxed SIMD, reported by cpuKernelInfo, and results that
// do not depend on them beyond float32 rounding.
import { afterAll, expect, test } from "vitest";
import {
  cpuKernelInfo,
  Generator,
  getNumThreads,
  matmul,
  measureCpuPeakGflops,
  randn,
  setNumThreads,
  setRelaxedSimd,
  tidy,
  ValueError,
} from "../src/mod.ts";

const initial = cpuKernelInfo();
afterAll(() => {
  setNumThreads(initial.threads);
  setRelaxedSimd(true);
});

test("cpuKernelInfo reports the engine's features and the settings in use", () => {
  expect(initial.simd).toBe(true); // every engine vitest runs on has WebAssembly SIMD
  expect(initial.threads).toBe(getNumThreads());
  expect(initial.maxThreads).toBeGreaterThanOrEqual(1);
  expect(initial.threads).toBeLessThanOrEqual(initial.maxThreads);
  expect(initial.relaxedSimd).toBe(initial.relaxedSimdAvailable);
});

test("setNumThreads sets the thread count, clamped to maxThreads", () => {
  setNumThreads(1);
  expect(getNumThreads()).toBe(1);
  expect(cpuKernelInfo().threads).toBe(1);
  setNumThreads(1000);
  expect(getNumThreads()).toBe(initial.maxThreads);
});

test("setNumThreads refuses anything but an integer ≥ 1", () => {
  for (const n of [0, -1, 1.5, Number.NaN]) expect(() => setNumThreads(n)).toThrow(ValueError);
  expect(() => setNumThreads(0)).toThrow(/setNumThreads: expected an integer ≥ 1, got 0/);
});

test("setRelaxedSimd switches between the kernel variants", () => {
  setRelaxedSimd(false);
  expect(cpuKernelInfo().relaxedSimd).toBe(false);
  setRelaxedSimd(true);
  expect(cpuKernelInfo().relaxedSimd).toBe(initial.relaxedSimdAvailable);
});

test("a product large enough to split over threads gives the same values on one thread", () => {
  const product = (threads: number) => {
    setNumThreads(threads);
    const g = new Generator(7);
    return tidy(() => matmul(randn([160, 200], { generator: g }), randn([200, 150], { generator: g })).dataSync());
  };
  const one = product(1);
  const all = product(initial.maxThreads);
  expect(all).toEqual(one);
});

test("measureCpuPeakGflops measures a positive rate and checks its arguments", () => {
  expect(measureCpuPeakGflops(1, 1_000_000)).toBeGreaterThan(0);
  expect(() => measureCpuPeakGflops(0)).toThrow(ValueError);
  expect(() => measureCpuPeakGflops(1, 0.5)).toThrow(ValueError);
});

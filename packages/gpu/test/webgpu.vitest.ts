/**
 * Node has no `navigator.gpu`, so the WebGPU tests run under Deno (`deno test -A packages/gpu/test/`, CI's
 * `.ci/deno-tests`). Here only what needs no GPU: the typed error when WebGPU is absent.
 */
import { expect, test } from "vitest";
import { GpuUnavailableError, initWebGPU } from "../src/mod.ts";

const hasGpu = (globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu !== undefined;
if (!hasGpu) console.log("@backprop/gpu: the WebGPU kernel tests run under Deno (no navigator.gpu in Node); see packages/gpu/README.md");

test.skipIf(hasGpu)("initWebGPU without WebGPU throws GpuUnavailableError saying what to pass", async () => {
  const error = await initWebGPU().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(GpuUnavailableError);
  expect((error as Error).message).toMatch(/navigator\.gpu is undefined.*webgpu/);
});

test.skipIf(hasGpu)("initWebGPU with a GPU object that has no adapter throws GpuUnavailableError", async () => {
  const gpu = { requestAdapter: () => Promise.resolve(null) } as unknown as GPU;
  const error = await initWebGPU({ gpu }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(GpuUnavailableError);
  expect((error as Error).message).toMatch(/no WebGPU adapter/);
});

test.skipIf(hasGpu)("initWebGPU reports the adapter's own message when requesting it fails", async () => {
  const gpu = { requestAdapter: () => Promise.reject(new Error("driver exploded")) } as unknown as GPU;
  const error = await initWebGPU({ gpu }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(GpuUnavailableError);
  expect((error as Error).message).toMatch(/driver exploded/);
});

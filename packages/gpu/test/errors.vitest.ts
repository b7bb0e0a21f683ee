// Everything the package throws is a BackpropError (the tensor package's base class, shared by every package),
// so a program tells the library's errors from everything else with one instanceof. Runs without a GPU.
import { expect, test } from "vitest";
import { BackpropError, InternalError } from "@backprop/tensor";
import * as api from "../src/mod.ts";
import { GpuLimitError } from "../src/mod.ts";
import { ParamWriter, PARAM_WORDS } from "../src/params.ts";

test("every exported error class extends BackpropError and is named after itself", () => {
  const classes = Object.entries(api as Record<string, unknown>).filter(
    (entry): entry is [string, new (message: string, reason?: string) => Error] =>
      typeof entry[1] === "function" && entry[1].prototype instanceof Error,
  );
  expect(classes.map(([name]) => name).sort()).toEqual([
    "GpuDeviceLostError",
    "GpuLimitError",
    "GpuUnavailableError",
    "GpuValidationError",
  ]);
  for (const [name, ErrorClass] of classes) {
    const error = new ErrorClass("message", "unknown");
    expect(error).toBeInstanceOf(BackpropError);
    expect(error.name).toBe(name);
  }
});

test("kernel parameters beyond 32 bits are a GpuLimitError; the block's own bounds an InternalError", () => {
  expect(() => new ParamWriter().u32(2 ** 32)).toThrow(GpuLimitError);
  expect(() => new ParamWriter().u32(2 ** 32)).toThrow(/4294967296 is beyond WebGPU's 32-bit sizes/);
  expect(() => new ParamWriter().u32(-1)).toThrow(InternalError);
  const full = new ParamWriter();
  for (let i = 0; i < PARAM_WORDS - 1; i++) full.u32(i);
  expect(() => full.u32(0)).toThrow(InternalError);
});

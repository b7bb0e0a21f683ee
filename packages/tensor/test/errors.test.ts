// Everything the package throws is a BackpropError — the exported classes, the kernels' own checks and the
// conformance suite's failures — so a program can tell the library's errors from everything else.
import { expect, test } from "vitest";
import * as api from "../src/mod.ts";
import * as testingApi from "../src/testing/mod.ts";
import { BackpropError, DTypeError, InternalError, setNumThreads, tidy, ValueError, zeros } from "../src/mod.ts";
import { gemm } from "../src/cpu/wasm/mod.ts";
import { WasmHeap } from "../src/cpu/wasm/heap.ts";

type ErrorClass = new (message: string) => Error;

function errorClasses(module: Record<string, unknown>): [string, ErrorClass][] {
  return Object.entries(module).filter(
    (entry): entry is [string, ErrorClass] => typeof entry[1] === "function" && entry[1].prototype instanceof Error,
  );
}

test("every exported error class extends BackpropError and is named after itself", () => {
  const classes = [...errorClasses(api), ...errorClasses(testingApi)];
  expect(classes.map(([name]) => name).sort()).toEqual([
    "BackpropError",
    "ConformanceError",
    "DTypeError",
    "DeviceError",
    "DisposedError",
    "InternalError",
    "OutOfMemoryError",
    "ShapeError",
    "ValueError",
    "WasmUnavailableError",
  ]);
  for (const [name, ErrorClass] of classes) {
    const error = new ErrorClass("message");
    expect(error).toBeInstanceOf(BackpropError);
    expect(error.name).toBe(name);
  }
});

test("the base class keeps an underlying error as its cause", () => {
  const cause = new Error("disk full");
  expect(new BackpropError("cannot save", { cause }).cause).toBe(cause);
});

test("argument checks throw typed errors naming the function, the expectation and the value", () => {
  expect(() => tidy(() => Promise.resolve(zeros([1])) as never)).toThrow(ValueError);
  expect(() => setNumThreads(0)).toThrow(new ValueError("setNumThreads: expected an integer ≥ 1, got 0"));
  const f32 = new Float32Array(4);
  expect(() => gemm(false, false, 2, 2, 2, new Float64Array(4) as never, 0, 2, f32, 0, 2, f32, 0, 2, 0))
    .toThrow(new DTypeError("gemm: A must be a Float32Array, got Float64Array"));
});

test("the kernels' allocator throws typed errors too", () => {
  expect(() => new WasmHeap(false).release(64)).toThrow(InternalError);
});

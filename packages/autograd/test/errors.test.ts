// Everything the package throws is a BackpropError (the tensor package's base class, shared by every package),
// so a program tells the library's errors from everything else with one instanceof.
import { expect, test } from "vitest";
import * as T from "@backprop/tensor";
import * as api from "../src/mod.ts";
import { Function, GraphError, noGrad, relError, tensor } from "../src/mod.ts";
import { leaf } from "./helpers.ts";

test("every exported error class extends BackpropError and is named after itself", () => {
  const classes = Object.entries(api as Record<string, unknown>).filter(
    (entry): entry is [string, new (message: string, result: never) => Error] =>
      typeof entry[1] === "function" && entry[1].prototype instanceof Error,
  );
  expect(classes.map(([name]) => name).sort()).toEqual(["DoubleBackwardError", "GradcheckError", "GraphError"]);
  for (const [name, ErrorClass] of classes) {
    const error = new ErrorClass("message", undefined as never);
    expect(error).toBeInstanceOf(T.BackpropError);
    expect(error.name).toBe(name);
  }
});

test("misuse throws typed errors that name the operation, the expectation and what was found", () => {
  expect(() => noGrad(() => Promise.resolve(1))).toThrow(T.ValueError);
  expect(() => relError([1, 2], [1])).toThrow(new T.ShapeError("relError: expected arrays of one length, got lengths 2 and 1"));
  class NoForward extends Function {}
  expect(() => NoForward.apply()).toThrow(GraphError);
  expect(() => leaf([1], [1]).mul(2).requiresGrad_(false)).toThrow(GraphError);
  const x = tensor([1, 2], { dtype: "float32" });
  expect(() => x.assign(T.tensor([1, 2, 3], { dtype: "float32" }))).toThrow(
    new T.ShapeError("assign: expected float32 [2], got float32 [3]"),
  );
  expect(() => x.assign(T.tensor([1, 2], { dtype: "float64" }))).toThrow(T.DTypeError);
  expect(() => tensor([1], { dtype: "int32", requiresGrad: true })).toThrow(T.DTypeError);
});

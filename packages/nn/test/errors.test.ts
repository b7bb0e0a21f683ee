// Everything the package throws is a BackpropError (the tensor package's base class, shared by every package),
// so a program tells the library's errors from everything else with one instanceof.
import { expect, test } from "vitest";
import { tensor } from "@backprop/autograd";
import * as T from "@backprop/tensor";
import * as api from "../src/mod.ts";
import { decodeSafetensors, Linear, Module, ModuleError, SafetensorsError, StateDictError } from "../src/mod.ts";

test("every exported error class extends BackpropError and is named after itself", () => {
  const classes = Object.entries(api as Record<string, unknown>).filter(
    (entry): entry is [string, new (message: string) => Error] =>
      typeof entry[1] === "function" && entry[1].prototype instanceof Error,
  );
  expect(classes.map(([name]) => name).sort()).toEqual(["ChecksumError", "ModuleError", "SafetensorsError", "StateDictError"]);
  for (const [name, ErrorClass] of classes) {
    const error = new ErrorClass("message");
    expect(error).toBeInstanceOf(T.BackpropError);
    expect(error.name).toBe(name);
  }
});

test("misuse and bad data throw typed errors that name the module or source", () => {
  class NoForward extends Module {}
  expect(() => new NoForward().forward()).toThrow(new ModuleError("NoForward.forward is not implemented: a Module subclass overrides forward()"));
  expect(() => decodeSafetensors(new Uint8Array(3), { source: "w.safetensors" })).toThrow(SafetensorsError);
  expect(() => new Linear(2, 3).loadStateDict({})).toThrow(StateDictError);
  expect(() => new Linear(2, 3).forward(tensor([[1, 2, 3]], { dtype: "float32" }))).toThrow(T.BackpropError);
});

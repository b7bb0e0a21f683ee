/** Behaviour specific to the CPU backend: synchronous reads, kernel-side index checks, device transfers. */
import { describe, expect, test } from "vitest";
import { cpuBackend, DeviceError, gather, getBackend, hasBackend, indexAdd, indexSelect, listBackends, scatterAdd, tensor, tidy, ValueError, zeros } from "../src/mod.ts";

describe("cpu backend", () => {
  test("is registered as \"cpu\" with float64 and synchronous reads", () => {
    expect(getBackend("cpu")).toBe(cpuBackend);
    expect(hasBackend("cpu")).toBe(true);
    expect(listBackends()).toContain("cpu");
    expect(cpuBackend.supportsFloat64).toBe(true);
    tidy(() => {
      const a = tensor([[1, 2], [3, 4]]).T;
      expect(a.dataSync()).toEqual(Int32Array.from([1, 3, 2, 4]));
      expect(a.toArraySync()).toEqual([[1, 3], [2, 4]]);
      expect(tensor(7).itemSync()).toBe(7);
      expect(() => a.itemSync()).toThrow(/exactly one element/);
    });
  });

  test("reads return copies", () => {
    tidy(() => {
      const a = tensor([1, 2]);
      const d = a.dataSync();
      d[0] = 99;
      expect(a.dataSync()[0]).toBe(1);
    });
  });

  test("out-of-range indices are a ValueError naming the op and the index", () => {
    tidy(() => {
      const x = zeros([2, 3]);
      expect(() => gather(x, 1, tensor([[0, 3, 0], [0, 0, 0]]))).toThrow(ValueError);
      expect(() => gather(x, 1, tensor([[0, 0, 0], [0, -1, 0]]))).toThrow(/gather: index -1/);
      expect(() => indexSelect(x, 0, tensor([2]))).toThrow(/indexSelect: index 2 .* out of range 0..1/);
      expect(() => scatterAdd(x, 0, tensor([[0, 0, 2]]), zeros([1, 3]))).toThrow(/scatterAdd/);
      expect(() => indexAdd(x, 1, tensor([5]), zeros([2, 1]))).toThrow(/indexAdd/);
    });
  });

  test("to() the same device is the array itself; to an unknown device is a DeviceError", () => {
    tidy(() => {
      const a = tensor([1]);
      expect(a.to("cpu")).toBe(a);
      expect(() => a.to("nowhere")).toThrow(DeviceError);
    });
  });
});

import { describe, expect, test } from "vitest";
import { Function, type FunctionCtx, gradcheckOnDevice, randn, type Tensor } from "../src/mod.ts";
import { Generator } from "@backprop/tensor";

const gen = new Generator(7);
const input = (shape: number[]) => randn(shape, { dtype: "float64", generator: gen, requiresGrad: true });

describe("gradcheckOnDevice (float32 on a device vs float64 on the CPU)", () => {
  test("passes for correct gradients (the CPU itself in float32)", async () => {
    const r = await gradcheckOnDevice((a, b) => a.matmul(b).tanh().logSoftmax(1), [input([4, 5]), input([5, 3])], { device: "cpu" });
    expect(r.pass).toBe(true);
    expect(r.inputs).toHaveLength(2);
  });

  test("catches a device whose gradient is off by 1%", async () => {
    // Stands in for a faulty float32 kernel: only the float32 run gets the skewed gradient.
    class Skewed extends Function {
      static override forward(_ctx: FunctionCtx, x: Tensor): Tensor {
        return x.mul(2);
      }
      static override backward(_ctx: FunctionCtx, g: Tensor): [Tensor] {
        return [g.mul(g.dtype === "float32" ? 2.02 : 2)];
      }
    }
    await expect(gradcheckOnDevice((x) => Skewed.apply(x), [input([6])], { device: "cpu" })).rejects.toThrow(/differs at flat index/);
  });
});

import { describe, expect, test } from "vitest";
import * as T from "@backprop/tensor";
import { Generator } from "@backprop/tensor";
import {
  concat,
  type DeviceGradcheckResult,
  full,
  Function,
  type FunctionCtx,
  GradcheckError,
  gradcheckOnDevice,
  randn,
  Tensor,
} from "../src/mod.ts";

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
    // Large outputs neither hide the skew nor add to it.
    const shifted = (x: Tensor) => concat([Skewed.apply(x), full([1000], 1e4, { dtype: x.dtype, device: x.device })]).add(1e4);
    await expect(gradcheckOnDevice(shifted, [input([6])], { device: "cpu" })).rejects.toThrow(/differs at flat index/);
  });

  test("reports both whole gradients, how many elements are off, and throws with that report", async () => {
    // The float32 run's gradient is off by 0.5 at element 2 only: one element of six outside the tolerance.
    class OffAtTwo extends Function {
      static override forward(_ctx: FunctionCtx, x: Tensor): Tensor {
        return x.mul(3);
      }
      static override backward(_ctx: FunctionCtx, g: Tensor): [Tensor] {
        const off = g.dtype === "float32" ? 0.5 : 0;
        return [g.mul(3).add(new Tensor(T.tensor([0, 0, off, 0, 0, 0], { dtype: g.dtype })))];
      }
    }
    const x = input([6]);
    const r = await gradcheckOnDevice((x) => OffAtTwo.apply(x), [x], { device: "cpu", raiseException: false });
    const check = r.inputs[0]!;
    expect([r.pass, check.pass, check.outside, check.worstIndex]).toEqual([false, false, 1, 2]);
    expect(check.deviceGradient).toHaveLength(6);
    expect(check.referenceGradient).toHaveLength(6);
    const diff = Array.from(check.deviceGradient, (v, j) => v - check.referenceGradient[j]!);
    diff.forEach((d, j) => expect(Math.abs(d - (j === 2 ? 0.5 : 0))).toBeLessThan(1e-5));
    let error: unknown;
    await gradcheckOnDevice((x) => OffAtTwo.apply(x), [x], { device: "cpu" }).catch((e) => (error = e));
    expect(error).toBeInstanceOf(GradcheckError);
    const thrown = error as GradcheckError<DeviceGradcheckResult>;
    expect(thrown.message).toContain("1 of 6 elements are outside");
    expect(thrown.result.inputs[0]!.outside).toBe(1);
    expect(Array.from(thrown.result.inputs[0]!.deviceGradient)).toEqual(Array.from(check.deviceGradient));
  });

  test("large outputs change nothing: it compares backward passes and never differences outputs", async () => {
    // The assignment's batch-norm check: γ = √(10·i), β = 100·i on a [238, 7] batch, outputs up to 600 — and up to
    // 1e6 with the shift, where a float32 difference of outputs would have no digits left.
    const x = new Tensor(T.randn([238, 7], { dtype: "float64", generator: new Generator(3) }).mul(2).add(10), { requiresGrad: true });
    const index = T.arange(7, undefined, undefined, { dtype: "float64" });
    const gamma = new Tensor(index.mul(10).sqrt(), { requiresGrad: true });
    const beta = new Tensor(index.mul(100), { requiresGrad: true });
    const batchNorm = (x: Tensor, g: Tensor, b: Tensor) => {
      const centered = x.sub(x.mean(0, true));
      return centered.div(centered.square().mean(0, true).add(1e-5).sqrt()).mul(g).add(b);
    };
    const plain = await gradcheckOnDevice(batchNorm, [x, gamma, beta], { device: "cpu" });
    expect(plain.pass).toBe(true);
    for (const offset of [1e4, -1e6]) {
      const shifted = await gradcheckOnDevice((...xs) => batchNorm(xs[0]!, xs[1]!, xs[2]!).add(offset), [x, gamma, beta], { device: "cpu" });
      expect(shifted).toEqual(plain);
    }
  });
});

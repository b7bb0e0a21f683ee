import { describe, expect, test } from "vitest";
import * as T from "@backprop/tensor";
import { values } from "./helpers.ts";
import { Adam, constantSchedule, cosineSchedule, LrScheduler, Parameter, SGD } from "../src/mod.ts";

const param = () => new Parameter(T.tensor([1, -2], { dtype: "float64" }));

describe("cosineSchedule", () => {
  test("without warm-up: 1 at the first step, ½ halfway, 0 one step after the run (CosineAnnealingLR, T_max = steps)", () => {
    const f = cosineSchedule({ totalSteps: 100 });
    expect(f(0)).toBe(1);
    expect(f(50)).toBeCloseTo(0.5, 12);
    expect(f(25)).toBeCloseTo(0.5 * (1 + Math.cos(Math.PI / 4)), 12);
    expect(f(99)).toBeCloseTo(0.5 * (1 + Math.cos(Math.PI * 0.99)), 12);
    expect(f(99)).toBeGreaterThan(0);
    expect(f(100)).toBeCloseTo(0, 12);
    expect(f(500)).toBeCloseTo(0, 12);
  });

  test("warm-up rises linearly to 1, then the cosine decays to finalFactor", () => {
    const f = cosineSchedule({ totalSteps: 14, warmupSteps: 4, finalFactor: 0.1 });
    expect([0, 1, 2, 3].map(f)).toEqual([0.25, 0.5, 0.75, 1]);
    expect(f(4)).toBe(1);
    expect(f(13)).toBeCloseTo(0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * 0.9)), 12);
    expect(f(14)).toBeCloseTo(0.1, 12);
    const decay = [4, 5, 6, 7, 8, 9, 10, 11, 12, 13].map(f);
    for (let i = 1; i < decay.length; i++) expect(decay[i]!).toBeLessThan(decay[i - 1]!);
  });

  test("a one-step run and a run that is all warm-up but one step", () => {
    expect(cosineSchedule({ totalSteps: 1 })(0)).toBe(1);
    const f = cosineSchedule({ totalSteps: 3, warmupSteps: 2 });
    expect([0, 1, 2, 3].map((s) => +f(s).toFixed(12))).toEqual([0.5, 1, 1, 0]);
  });

  test("bad options name the option and the value", () => {
    expect(() => cosineSchedule({ totalSteps: 0 })).toThrow(/totalSteps must be a positive integer, got 0/);
    expect(() => cosineSchedule({ totalSteps: 2.5 })).toThrow(/totalSteps/);
    expect(() => cosineSchedule({ totalSteps: 10, warmupSteps: 10 })).toThrow(/warmupSteps must be an integer in \[0, totalSteps = 10\), got 10/);
    expect(() => cosineSchedule({ totalSteps: 10, warmupSteps: -1 })).toThrow(/warmupSteps/);
    expect(() => cosineSchedule({ totalSteps: 10, finalFactor: 1.5 })).toThrow(/finalFactor must be in \[0, 1\], got 1.5/);
    expect(() => cosineSchedule({ totalSteps: 10, finalFactor: NaN })).toThrow(/finalFactor/);
  });
});

describe("LrScheduler", () => {
  test("sets every group's rate to its base rate times the factor, from the first step on", () => {
    const a = param(), b = param();
    const opt = new SGD([{ params: [a] }, { params: [b], lr: 0.5 }], { lr: 0.1 });
    const s = new LrScheduler(opt, (step) => 1 / (step + 1));
    expect(s.baseLrs).toEqual([0.1, 0.5]);
    expect(s.lrs).toEqual([0.1, 0.5]);
    s.step();
    expect(s.currentStep).toBe(1);
    expect(s.lrs).toEqual([0.05, 0.25]);
    s.setStep(9);
    expect(s.lrs.map((x) => +x.toFixed(15))).toEqual([0.01, 0.05]);
    s.setStep(0);
    expect(s.lrs).toEqual([0.1, 0.5]);
  });

  test("the optimizer updates with the scheduled rate", () => {
    const p = param();
    const opt = new SGD([p], { lr: 1 });
    const s = new LrScheduler(opt, (step) => (step === 0 ? 0.5 : 0.25));
    const stepOnce = () =>
      T.tidy(() => {
        opt.zeroGrad();
        p.mul(p).sum().mul(0.5).backward(); // gradient p
        opt.step();
        s.step();
      });
    stepOnce(); // p ← p − 0.5·p
    expect(values(p)).toEqual([0.5, -1]);
    stepOnce(); // p ← p − 0.25·p
    expect(values(p)).toEqual([0.375, -0.75]);
  });

  test("constantSchedule keeps the rate; a schedule giving NaN or a negative factor is refused with the step", () => {
    const opt = new Adam([param()], { lr: 3e-4 });
    const s = new LrScheduler(opt, constantSchedule);
    s.setStep(1000);
    expect(s.lrs).toEqual([3e-4]);
    expect(() => new LrScheduler(new Adam([param()]), (step) => (step > 2 ? NaN : 1)).setStep(3)).toThrow(/factor NaN at step 3/);
    expect(() => new LrScheduler(new Adam([param()]), () => -1)).toThrow(/factor -1 at step 0/);
    expect(() => s.setStep(-1)).toThrow(/non-negative integer, got -1/);
  });
});

import { describe, expect, test } from "vitest";
import { tensor } from "@backprop/autograd";
import * as T from "@backprop/tensor";
import {
  Adam,
  AdamW,
  BatchNorm1d,
  crossEntropy,
  flattenOptimizerState,
  Linear,
  type Optimizer,
  Parameter,
  ReLU,
  Sequential,
  SGD,
  unflattenOptimizerState,
} from "../src/mod.ts";
import { liveStorages, values } from "./helpers.ts";

/** p = [1, −2] and the loss ½‖p‖², whose gradient is p itself: easy to follow by hand. */
function quadratic(): Parameter {
  return new Parameter(T.tensor([1, -2], { dtype: "float64" }));
}

function run(opt: Optimizer, p: Parameter, steps: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < steps; i++) {
    T.tidy(() => {
      opt.zeroGrad();
      p.mul(p).sum().mul(0.5).backward();
      opt.step();
    });
    out.push(values(p));
  }
  return out;
}

const close = (xs: number[]) => xs.map((x) => expect.closeTo(x, 12));

describe("SGD, two steps by hand on ½‖p‖² from p = [1, −2]", () => {
  test("plain: p ← p − 0.1·p", () => {
    const p = quadratic();
    expect(run(new SGD([p], { lr: 0.1 }), p, 2)).toEqual([close([0.9, -1.8]), close([0.81, -1.62])]);
  });

  test("momentum 0.9: b₁ = g₁ = [1, −2]; b₂ = 0.9·b₁ + g₂ = [1.8, −3.6]", () => {
    const p = quadratic();
    const opt = new SGD([p], { lr: 0.1, momentum: 0.9 });
    expect(run(opt, p, 2)).toEqual([close([0.9, -1.8]), close([0.72, -1.44])]);
    expect(values(opt.state.get(p)!.momentum_buffer as T.NDArray)).toEqual(close([1.8, -3.6]));
  });

  test("Nesterov: step with g + 0.9·b", () => {
    // Step 1: b = [1, −2], d = g + 0.9b = [1.9, −3.8], p = [0.81, −1.62].
    // Step 2: b = 0.9·[1, −2] + [0.81, −1.62] = [1.71, −3.42], d = [0.81 + 1.539, −1.62 − 3.078], p = p − 0.1d.
    const p = quadratic();
    expect(run(new SGD([p], { lr: 0.1, momentum: 0.9, nesterov: true }), p, 2))
      .toEqual([close([0.81, -1.62]), close([0.5751, -1.1502])]);
  });

  test("weight decay 0.5 and dampening 0.5 (the first buffer is not dampened)", () => {
    // Step 1: g = 1.5p = [1.5, −3], b = g, p = [0.85, −1.7].
    // Step 2: g = 1.5p = [1.275, −2.55], b = 0.9·[1.5, −3] + 0.5·g = [1.9875, −3.975], p = p − 0.1b.
    const p = quadratic();
    expect(run(new SGD([p], { lr: 0.1, momentum: 0.9, dampening: 0.5, weightDecay: 0.5 }), p, 2))
      .toEqual([close([0.85, -1.7]), close([0.65125, -1.3025])]);
  });

  test("hyperparameters are checked", () => {
    const p = quadratic();
    expect(() => new SGD([p], { lr: -1 })).toThrow(/invalid learning rate -1/);
    expect(() => new SGD([p], { nesterov: true })).toThrow(/Nesterov momentum needs momentum > 0 and dampening = 0/);
    expect(() => new SGD([])).toThrow(/empty parameter list/);
    expect(() => new SGD([p, p])).toThrow(/appears twice/);
    expect(() => new SGD([p.mul(2)])).toThrow(/leaf tensors/);
  });
});

describe("Adam and AdamW, two steps by hand (lr 0.1, betas 0.9/0.999, eps 1e-8)", () => {
  test("Adam: the first step moves each weight by lr·g/(|g| + eps)", () => {
    // Step 1: m = 0.1g, v = 0.001g², m̂ = g, v̂ = g², so p ← p − 0.1·g/(|g| + 1e-8).
    // Step 2 (g = p₁): m = 0.9m + 0.1g, v = 0.999v + 0.001g², p ← p − (0.1/0.19)·m / (√v/√0.001999 + 1e-8).
    const p = quadratic();
    const opt = new Adam([p], { lr: 0.1 });
    const steps = run(opt, p, 2);
    expect(steps[0]).toEqual(close([1 - 0.1 / (1 + 1e-8), -2 + 0.2 / (2 + 1e-8)]));
    expect(steps[1]).toEqual(close([0.8004122297123382, -1.8001664866210927]));
    const s = opt.state.get(p)!;
    expect(s.step).toBe(2);
    expect(values(s.exp_avg as T.NDArray)).toEqual(close([0.1800000001, -0.37000000005]));
    expect(values(s.exp_avg_sq as T.NDArray)).toEqual(close([0.001809000001800002, 0.007606000001900007]));
  });

  test("Adam's weight decay is added to the gradient (L2)", () => {
    // g = 1.1p: the first step is still ±lr·(1 − tiny), but the moments differ.
    const p = quadratic();
    const steps = run(new Adam([p], { lr: 0.1, weightDecay: 0.1 }), p, 2);
    expect(steps[0]).toEqual(close([1 - 0.11 / (1.1 + 1e-8), -2 + 0.22 / (2.2 + 1e-8)]));
    expect(steps[1]).toEqual(close([0.8004122295267845, -1.8001664865292035]));
  });

  test("AdamW shrinks the weights by (1 − lr·wd) before the Adam step", () => {
    // Step 1: p ← 0.99p, then − 0.1·g/(|g| + 1e-8) with g from the old p.
    const p = quadratic();
    const opt = new AdamW([p], { lr: 0.1, weightDecay: 0.1 });
    const steps = run(opt, p, 2);
    expect(steps[0]).toEqual(close([0.99 - 0.1 / (1 + 1e-8), -1.98 + 0.2 / (2 + 1e-8)]));
    expect(steps[1]).toEqual(close([0.7815718569541611, -1.7614089510885826]));
    expect(new AdamW([quadratic()]).paramGroups[0]!.weightDecay).toBe(0.01);
  });

  test("hyperparameters are checked", () => {
    expect(() => new Adam([quadratic()], { betas: [0.9, 1] })).toThrow(/invalid beta parameter at index 1: 1/);
    expect(() => new AdamW([quadratic()], { eps: -1 })).toThrow(/AdamW: invalid eps -1/);
  });
});

describe("Optimizer behaviour", () => {
  test("param groups override the defaults; parameters without a gradient are skipped", () => {
    const a = quadratic(), b = quadratic(), c = quadratic();
    const opt = new SGD([{ params: [a] }, { params: [b, c], lr: 0.5 }], { lr: 0.1 });
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.1, 0.5]);
    T.tidy(() => {
      a.mul(a).sum().mul(0.5).backward();
      b.mul(b).sum().mul(0.5).backward();
    });
    opt.step();
    expect(values(a)).toEqual(close([0.9, -1.8]));
    expect(values(b)).toEqual(close([0.5, -1]));
    expect(values(c)).toEqual([1, -2]);
    opt.zeroGrad();
    expect([a, b, c].every((p) => p.grad === null)).toBe(true);
  });

  test("memory stays flat across many steps (parameters, gradients and state replaced, not accumulated)", () => {
    const g = new T.Generator(1);
    const model = new Sequential(new Linear(4, 8, { generator: g }), new BatchNorm1d(8), new ReLU(), new Linear(8, 3, { generator: g }));
    const x = tensor(T.randn([6, 4], { generator: new T.Generator(2) }));
    const y = T.tensor([0, 1, 2, 0, 1, 2], { dtype: "int32" });
    for (const opt of [new Adam(model.parameters()), new SGD(model.parameters(), { momentum: 0.9, nesterov: true })]) {
      const step = () =>
        T.tidy(() => {
          opt.zeroGrad();
          crossEntropy(model.forward(x), y).backward();
          opt.step();
        });
      for (let i = 0; i < 3; i++) step();
      const before = liveStorages();
      for (let i = 0; i < 20; i++) step();
      expect(liveStorages()).toBe(before);
    }
  });

  test("stateDict/loadStateDict resume bit for bit, also through flatten/unflatten", () => {
    const data = tensor(T.randn([5, 3], { dtype: "float32", generator: new T.Generator(3) }));
    const target = T.tensor([0, 1, 1, 0, 1], { dtype: "int32" });
    const make = () => new Linear(3, 2, { generator: new T.Generator(4) });
    const step = (m: Linear, o: Optimizer) =>
      T.tidy(() => {
        o.zeroGrad();
        crossEntropy(m.forward(data), target).backward();
        o.step();
      });
    for (const Opt of [Adam, AdamW, SGD] as const) {
      const a = make();
      const optA = new Opt(a.parameters(), { lr: 0.05, ...(Opt === SGD ? { momentum: 0.9 } : {}) });
      for (let i = 0; i < 3; i++) step(a, optA);
      const b = new Linear(3, 2, { generator: new T.Generator(99) });
      const optB = new Opt(b.parameters(), { lr: 1 });
      b.loadStateDict(a.stateDict());
      const flat = flattenOptimizerState(optA.stateDict());
      const json = JSON.parse(JSON.stringify(flat.json));
      optB.loadStateDict(unflattenOptimizerState(flat.arrays, json));
      expect(optB.paramGroups[0]!.lr).toBe(0.05);
      for (let i = 0; i < 3; i++) {
        step(a, optA);
        step(b, optB);
      }
      expect(values(b.weight)).toEqual(values(a.weight));
      expect(values(b.bias!)).toEqual(values(a.bias!));
    }
  });

  test("loading an optimizer's own state, or a module's, changes nothing", () => {
    const p = quadratic();
    const opt = new Adam([p], { lr: 0.1 });
    run(opt, p, 2);
    const before = values(opt.state.get(p)!.exp_avg as T.NDArray);
    opt.loadStateDict(opt.stateDict());
    expect(values(opt.state.get(p)!.exp_avg as T.NDArray)).toEqual(before);
    expect(opt.state.get(p)!.step).toBe(2);
    const lin = new Linear(3, 2);
    const weights = values(lin.weight);
    lin.loadStateDict(lin.stateDict());
    expect(values(lin.weight)).toEqual(weights);
  });

  test("loadStateDict rejects state that does not fit", () => {
    const opt = new SGD([quadratic()], { momentum: 0.9 });
    const wrong = { state: { "0": { momentum_buffer: T.zeros([3], { dtype: "float64" }) } }, paramGroups: [{ ...opt.stateDict().paramGroups[0]!, params: [0] }] };
    expect(() => opt.loadStateDict(wrong)).toThrow(/state "momentum_buffer" of parameter 0 has shape \[3\], the parameter \[2\]/);
    expect(() => opt.loadStateDict({ state: {}, paramGroups: [] })).toThrow(/the state has 0 parameter groups, the optimizer 1/);
    expect(() => opt.loadStateDict({ state: {}, paramGroups: [{ ...opt.stateDict().paramGroups[0]!, lr: -1 }] })).toThrow(/invalid learning rate -1/);
    expect(opt.paramGroups[0]!.lr).toBe(1e-3);
    expect(() => unflattenOptimizerState({ "optimizer.x": T.zeros([1]) }, { paramGroups: [], scalars: {} })).toThrow(/not of the form/);
  });
});

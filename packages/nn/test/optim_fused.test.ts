import { describe, expect, test } from "vitest";
import * as T from "@backprop/tensor";
import { Adam, AdamW, type Optimizer, Parameter, SGD } from "../src/mod.ts";
import { adamUpdate, sgdUpdate } from "../src/optim/fused_updates.ts";

/** Parameters of a few shapes (one above the CPU's kernel-memory threshold), with a loss whose gradient varies. */
function params(dtype: "float32" | "float64"): Parameter[] {
  const g = new T.Generator(7);
  return [[300], [17, 9], [1]].map((s) => new Parameter(T.randn(s, { dtype, generator: g })));
}

/** Runs `steps` steps on Σ sin(p)·p and returns every parameter's and state array's values. */
function run(make: (ps: Parameter[]) => Optimizer, dtype: "float32" | "float64", fused: boolean, steps = 4): number[][] {
  const ps = params(dtype);
  const opt = make(ps);
  opt.fused = fused;
  for (let i = 0; i < steps; i++) {
    T.tidy(() => {
      opt.zeroGrad();
      let loss = ps[0]!.sin().mul(ps[0]!).sum();
      for (const p of ps.slice(1)) loss = loss.add(p.sin().mul(p).sum());
      loss.backward();
      opt.step();
    });
  }
  const out = ps.map((p) => Array.from(p.value.dataSync()));
  for (const p of ps) {
    for (const v of Object.values(opt.state.get(p) ?? {})) if (v instanceof T.NDArray) out.push(Array.from(v.dataSync()));
  }
  return out;
}

const CASES: [string, (ps: Parameter[]) => Optimizer][] = [
  ["SGD", (ps) => new SGD(ps, { lr: 0.1 })],
  ["SGD, weight decay", (ps) => new SGD(ps, { lr: 0.1, weightDecay: 0.01 })],
  ["SGD, momentum and dampening", (ps) => new SGD(ps, { lr: 0.1, momentum: 0.9, dampening: 0.1 })],
  ["SGD, Nesterov and weight decay", (ps) => new SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 })],
  ["Adam", (ps) => new Adam(ps, { lr: 0.01 })],
  ["Adam, L2 weight decay", (ps) => new Adam(ps, { lr: 0.01, weightDecay: 0.1, betas: [0.8, 0.99] })],
  ["AdamW", (ps) => new AdamW(ps, { lr: 0.01 })],
  ["AdamW, no decay", (ps) => new AdamW(ps, { lr: 0.01, weightDecay: 0 })],
];

describe("fused optimizer updates equal the unfused chain bit for bit", () => {
  for (const dtype of ["float32", "float64"] as const) {
    for (const [name, make] of CASES) {
      test(`${name} (${dtype})`, () => {
        const fusedRun = run(make, dtype, true), plain = run(make, dtype, false);
        expect(fusedRun.length).toBe(plain.length);
        fusedRun.forEach((xs, i) => expect(xs).toEqual(plain[i]));
      });
    }
  }
});

test("each update variant's expressions are one array, built once, so fused finds its program by identity", () => {
  const flags = [false, true];
  const adams = flags.flatMap((decay) =>
    flags.flatMap((decoupled) => flags.map((moments) => ({ decay, decoupled, moments })))
  );
  const sgds = flags.flatMap((decay) =>
    flags.flatMap((momentum) => flags.flatMap((buffer) => flags.map((nesterov) => ({ decay, momentum, buffer, nesterov }))))
  );
  const adamArrays = adams.map((v) => adamUpdate(v)), sgdArrays = sgds.map((v) => sgdUpdate(v));
  adams.forEach((v, i) => expect(adamUpdate({ ...v })).toBe(adamArrays[i]));
  sgds.forEach((v, i) => expect(sgdUpdate({ ...v })).toBe(sgdArrays[i]));
  expect(new Set(adamArrays).size).toBe(adams.length);
  expect(new Set(sgdArrays).size).toBe(sgds.length);
  // Each variant keeps its own rule: moments add inputs m and v, momentum adds the buffer output.
  expect(adamUpdate({ decay: false, decoupled: false, moments: true })).not.toEqual(
    adamUpdate({ decay: false, decoupled: false, moments: false }),
  );
  expect(sgdUpdate({ decay: false, momentum: true, buffer: false, nesterov: false })).toHaveLength(2);
  expect(sgdUpdate({ decay: false, momentum: false, buffer: false, nesterov: false })).toHaveLength(1);
});

/**
 * The fused elementwise pipeline against the op-by-op chain on WebGPU and against the float64 evaluation of the
 * expression, on random expression graphs (NaN, ±∞ and ±0 among the inputs) and on the optimizers' updates.
 * Values are read back in one batch per case: each read-back costs about 11 ms on Deno.
 */
import { Tensor } from "@backprop/autograd";
import { Adam, Parameter, SGD } from "@backprop/nn";
import { E, evaluate, type Expr, fused, opByOp, tensor, tidy } from "@backprop/tensor";
import { gpu, noGpu } from "./setup.ts";

const test = (name: string, fn: () => Promise<void> | void) => Deno.test({ name: `webgpu fused: ${name}`, ignore: noGpu, fn });

let seed = 99;
function random(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
}
const SPECIAL = [NaN, Infinity, -Infinity, 0, -0];

/** A random expression of depth ≤ `depth` over three inputs and one parameter, from every primitive. */
function randomExpr(depth: number): Expr {
  const r = random();
  if (depth === 0 || r < 0.2) {
    const leaf = Math.floor(random() * 5);
    return leaf < 3 ? E.input(leaf) : leaf === 3 ? E.param(0) : E.constant(Math.round(random() * 80 - 40) / 10);
  }
  if (r < 0.5) {
    const ops = ["neg", "abs", "sqrt", "floor", "ceil", "round", "exp", "log", "log1p", "expm1", "sin", "cos", "tanh", "isnan", "nonzero"] as const;
    return E[ops[Math.floor(random() * ops.length)]!](randomExpr(depth - 1));
  }
  if (r < 0.9) {
    const ops = ["add", "sub", "mul", "div", "pow", "max", "min", "eq", "ne", "lt", "le", "gt", "ge", "and", "or"] as const;
    return E[ops[Math.floor(random() * ops.length)]!](randomExpr(depth - 1), randomExpr(depth - 1));
  }
  return E.select(randomExpr(depth - 1), randomExpr(depth - 1), randomExpr(depth - 1));
}

/** Same value within float32 rounding of a short chain (relative 1e-4, or 1e-5 absolute near 0); NaN = NaN. */
function near(got: number, want: number): boolean {
  if (Number.isNaN(want) || Number.isNaN(got)) return Number.isNaN(want) && Number.isNaN(got);
  if (!Number.isFinite(want) || !Number.isFinite(got)) return got === want;
  return Math.abs(got - want) <= 1e-4 * Math.abs(want) + 1e-5;
}

test("random expression graphs equal the op-by-op chain on the device", async () => {
  const shapes = [[4, 70], [70], [4, 1]];
  const inputs = shapes.map((s) => {
    const n = s.reduce((a, b) => a * b, 1);
    const v = Array.from({ length: n }, (_, i) => (i % 13 === 5 ? SPECIAL[i % 5]! : random() * 6 - 3));
    return tensor(v, { dtype: "float32", device: "webgpu" }).reshape(s);
  });
  const exprs = Array.from({ length: 12 }, () => randomExpr(3));
  const pairs = tidy(() => exprs.map((e) => [fused([e], inputs, [0.5])[0]!, opByOp(e, inputs, [0.5], [4, 70])]).map(([a, b]) => [a!.keep(), b!.keep()]));
  const data = await Promise.all(pairs.flat().map((t) => t.data()));
  exprs.forEach((e, i) => {
    const got = data[2 * i]!, want = data[2 * i + 1]!;
    for (let k = 0; k < got.length; k++) {
      if (!near(got[k]!, want[k]!)) throw new Error(`fused ${JSON.stringify(e)} at ${k}: ${got[k]} vs op by op ${want[k]}`);
    }
  });
});

test("a fused chain of exactly rounded ops equals the float64 evaluation rounded to float32", async () => {
  const a = Array.from({ length: 300 }, () => random() * 4 - 2), b = Array.from({ length: 300 }, () => random() * 4 + 0.5);
  const e = E.max(E.div(E.add(E.mul(E.input(0), E.param(0)), E.input(1)), E.sqrt(E.input(1))), E.neg(E.input(1)));
  const A = tensor(a, { dtype: "float32", device: "webgpu" }), B = tensor(b, { dtype: "float32", device: "webgpu" });
  const [out] = fused([e], [A, B], [0.75]);
  // The device ran it as one pipeline rather than declining to the op-by-op chain.
  const direct = gpu!.backend.fused!({ outputs: [e], dtype: "float32", key: "direct" }, [A, B], [300], [0.75]);
  if (!direct || direct.length !== 1) throw new Error("webgpu declined a two-input fused program");
  for (const s of direct) gpu!.backend.release(s);
  const got = await out!.data();
  got.forEach((v, k) => {
    const want = evaluate(e, [Math.fround(a[k]!), Math.fround(b[k]!)], [0.75]);
    if (!near(v, want)) throw new Error(`element ${k}: ${v} vs ${want}`);
  });
});

test("SGD with momentum and Adam: fused updates equal the unfused chain within float32 rounding", async () => {
  const run = async (make: (p: Parameter) => SGD | Adam, isFused: boolean) => {
    const p = new Parameter(tensor(Array.from({ length: 500 }, (_, i) => Math.sin(i)), { dtype: "float32", device: "webgpu" }));
    const opt = make(p);
    opt.fused = isFused;
    for (let s = 0; s < 3; s++) {
      tidy(() => {
        p.grad = new Tensor(p.value.mul(0.3).add(0.1).keep());
        opt.step();
      });
    }
    return await p.value.data();
  };
  for (const make of [(p: Parameter) => new SGD([p], { lr: 0.1, momentum: 0.9, weightDecay: 0.01 }), (p: Parameter) => new Adam([p], { lr: 0.01 })]) {
    const [f, u] = [await run(make, true), await run(make, false)];
    f.forEach((v, k) => {
      if (!near(v, u[k]!)) throw new Error(`${make.toString()} element ${k}: fused ${v} vs unfused ${u[k]}`);
    });
  }
});

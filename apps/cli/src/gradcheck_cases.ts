import * as A from "@backprop/autograd";
import type { Tensor } from "@backprop/autograd";
import { Generator, tensor as ndTensor } from "@backprop/tensor";

/** One entry of the `gradcheck` table. */
export interface GradcheckCase {
  name: string;
  kind: "op" | "module";
  shapes: string;
  /** Runs the check and returns the worst relError and whether every element was within tolerance. */
  run(): { maxRelError: number; pass: boolean };
}

const gen = new Generator(1234);
const f64 = { dtype: "float64" as const, requiresGrad: true };
const randn = (shape: number[]) => A.randn(shape, { ...f64, generator: gen });
/** Values at least 0.1 away from zero, for ops with a kink or a pole there (relu, abs, log, div). */
const awayFromZero = (shape: number[]) => {
  const r = A.randn(shape, { dtype: "float64", generator: gen }).value;
  return A.tensor(r.sign().mul(r.abs().add(0.1)), { requiresGrad: true });
};
const positive = (shape: number[]) => A.tensor(A.rand(shape, { dtype: "float64", generator: gen }).value.add(0.5), { requiresGrad: true });
/** Distinct values spaced far wider than the finite-difference step, so max/min/maxPool have a unique winner. */
const distinct = (shape: number[]) => {
  const n = shape.reduce((a, b) => a * b, 1);
  const perm = A.randperm(n, { generator: gen }).value.cast("float64");
  return A.tensor(perm.mul(0.1).reshape(shape), { requiresGrad: true });
};
const fmt = (xs: Tensor[]) => xs.map((x) => `[${x.shape.join(",")}]`).join(" ");

function op(name: string, inputs: Tensor[], fn: (...xs: Tensor[]) => Tensor): GradcheckCase {
  return {
    name, kind: "op", shapes: fmt(inputs),
    run: () => {
      const r = A.gradcheck(fn, inputs, { raiseException: false });
      return { maxRelError: r.maxRelError, pass: r.pass };
    },
  };
}

/** Every differentiable op of @backprop/autograd, on small float64 inputs. */
export function opCases(): GradcheckCase[] {
  const idx = ndTensor([2, 0, 1, 2], { dtype: "int32" });
  return [
    op("add (broadcast)", [randn([3, 4]), randn([4])], (a, b) => a.add(b)),
    op("sub (broadcast)", [randn([2, 3, 1]), randn([3, 4])], (a, b) => a.sub(b)),
    op("mul", [randn([3, 4]), randn([3, 4])], (a, b) => a.mul(b)),
    op("div", [randn([3, 4]), awayFromZero([3, 4])], (a, b) => a.div(b)),
    op("pow", [positive([3, 4]), randn([3, 4])], (a, b) => a.pow(b)),
    op("maximum", [distinct([3, 4]), randn([3, 4])], (a, b) => A.maximum(a, b.mul(0.01))),
    op("minimum", [distinct([3, 4]), randn([3, 4])], (a, b) => A.minimum(a, b.mul(0.01))),
    op("neg", [randn([5])], (a) => a.neg()),
    op("abs", [awayFromZero([5])], (a) => a.abs()),
    op("exp", [randn([5])], (a) => a.exp()),
    op("log", [positive([5])], (a) => a.log()),
    op("log1p", [positive([5])], (a) => a.log1p()),
    op("expm1", [randn([5])], (a) => a.expm1()),
    op("sqrt", [positive([5])], (a) => a.sqrt()),
    op("rsqrt", [positive([5])], (a) => a.rsqrt()),
    op("square", [randn([5])], (a) => a.square()),
    op("reciprocal", [awayFromZero([5])], (a) => a.reciprocal()),
    op("sin", [randn([5])], (a) => a.sin()),
    op("cos", [randn([5])], (a) => a.cos()),
    op("tanh", [randn([5])], (a) => a.tanh()),
    op("sigmoid", [randn([5])], (a) => a.sigmoid()),
    op("softplus", [randn([5])], (a) => a.softplus()),
    op("relu", [awayFromZero([4, 5])], (a) => a.relu()),
    op("elu", [awayFromZero([4, 5])], (a) => a.elu(1)),
    op("clamp", [awayFromZero([4, 5])], (a) => a.clamp(-0.05, 0.05).add(a.clamp(-3, 3))),
    op("where", [randn([3, 4]), randn([4])], (a, b) => A.where(a.value.gt(0), a, b)),
    op("sum (axis 1)", [randn([3, 4, 2])], (a) => a.sum(1)),
    op("mean (axes 0, 2, keepdim)", [randn([3, 4, 2])], (a) => a.mean([0, 2], true)),
    op("prod", [positive([3, 4])], (a) => a.prod(1)),
    op("max (axis -1)", [distinct([3, 5])], (a) => a.max(-1)),
    op("min (all)", [distinct([3, 5])], (a) => a.min()),
    op("var", [randn([4, 5])], (a) => a.var(1)),
    op("logSumExp", [randn([4, 5])], (a) => a.logSumExp(1)),
    op("softmax", [randn([4, 5])], (a) => a.softmax(1)),
    op("logSoftmax", [randn([4, 5])], (a) => a.logSoftmax(1)),
    op("matmul", [randn([3, 4]), randn([4, 5])], (a, b) => a.matmul(b)),
    op("matmul (batched, broadcast)", [randn([2, 3, 4]), randn([4, 5])], (a, b) => a.matmul(b)),
    op("reshape / permute / transpose", [randn([2, 3, 4])], (a) => a.reshape(6, 4).transpose(0, 1).reshape(2, 2, 6).permute(2, 0, 1)),
    op("slice / narrow / select", [randn([5, 6])], (a) => a.slice(1, 1, 6, 2).narrow(0, 1, 3).select(0, 1)),
    op("expand / squeeze / unsqueeze", [randn([3, 1])], (a) => a.expand(3, 4).unsqueeze(0).squeeze(0)),
    op("concat / stack", [randn([2, 3]), randn([2, 3])], (a, b) => A.stack([A.concat([a, b], 1), A.concat([b, a], 1)])),
    op("gather", [randn([4, 3])], (a) => a.gather(1, idx.reshape([4, 1]))),
    op("indexSelect", [randn([3, 5])], (a) => a.indexSelect(0, idx)),
    op("conv2d (stride 2, padding 1, bias)", [randn([2, 3, 6, 6]), randn([4, 3, 3, 3]), randn([4])], (x, w, b) => A.conv2d(x, w, b, { stride: 2, padding: 1 })),
    op("conv2d (dilation 2, groups 2)", [randn([1, 4, 7, 7]), randn([4, 2, 3, 3])], (x, w) => A.conv2d(x, w, null, { dilation: 2, groups: 2 })),
    op("maxPool2d (3×3, stride 2, padding 1)", [distinct([2, 2, 6, 6])], (x) => A.maxPool2d(x, 3, { stride: 2, padding: 1 })),
    op("avgPool2d (2×2)", [randn([2, 2, 4, 6])], (x) => A.avgPool2d(x, 2)),
  ];
}

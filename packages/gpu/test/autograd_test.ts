/**
 * Every differentiable autograd operation on WebGPU (float32) against the same computation on the CPU in
 * float64, from identical inputs: the forward value and the gradient of every input must agree within float32
 * accuracy. The loss is a random projection of the output, so every output element's gradient path counts.
 */
import * as A from "@backprop/autograd";
import type { Tensor } from "@backprop/autograd";
import { Generator, type NDArray, tensor as ndTensor, tidy } from "@backprop/tensor";
import { gpu, noGpu } from "./setup.ts";

type Gen = "any" | "positive" | "awayFromZero" | "unit" | "aboveMinusOne";

interface Input {
  shape: number[];
  gen?: Gen;
}

let seed = 12345;
function random(): number {
  // xorshift32: the inputs only need to be fixed and varied, not statistically perfect.
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
}

function values(size: number, gen: Gen): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const u = random();
    switch (gen) {
      case "any":
        out[i] = u * 4 - 2;
        break;
      case "positive":
        out[i] = 0.2 + u * 2;
        break;
      case "awayFromZero":
        out[i] = (0.3 + u * 1.5) * (random() < 0.5 ? -1 : 1);
        break;
      case "unit":
        out[i] = u * 1.6 - 0.8;
        break;
      case "aboveMinusOne":
        out[i] = -0.7 + u * 2;
        break;
    }
  }
  return out;
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Runs `fn` on one device and returns [output, ...input gradients] as NDArrays (kept alive). */
function runOn(device: string, dtype: "float32" | "float64", data: Float32Array[], inputs: Input[], proj: Float32Array, fn: (...xs: Tensor[]) => Tensor): NDArray[] {
  return tidy(() => {
    const xs = data.map((d, i) => A.tensor(ndTensor(d, { shape: inputs[i]!.shape, dtype, device }), { requiresGrad: true }));
    const out = fn(...xs);
    const r = ndTensor(proj, { shape: out.shape, dtype, device });
    out.mul(A.tensor(r)).sum().backward();
    return [out.value, ...xs.map((x) => x.grad!.value)];
  });
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

async function compare(name: string, inputs: Input[], fn: (...xs: Tensor[]) => Tensor, tol = 2e-5): Promise<void> {
  const data = inputs.map((inp) => values(size(inp.shape), inp.gen ?? "any"));
  // The projection's shape is only known after a forward pass; run one on the CPU to learn it.
  const probe = tidy(() => fn(...data.map((d, i) => A.tensor(ndTensor(d, { shape: inputs[i]!.shape, dtype: "float64" })))).shape);
  const proj = values(size(probe), "any");
  const cpu = runOn("cpu", "float64", data, inputs, proj, fn);
  const dev = runOn("webgpu", "float32", data, inputs, proj, fn);
  try {
    const got = await Promise.all(dev.map((a) => a.data()));
    cpu.forEach((ref, k) => {
      const want = ref.dataSync();
      const have = got[k]!;
      const what = k === 0 ? "output" : `gradient of input ${k - 1}`;
      if (have.length !== want.length) throw new Error(`${name}: ${what} has ${have.length} values, expected ${want.length}`);
      const scale = Math.max(1, maxAbs(want));
      for (let i = 0; i < want.length; i++) {
        const diff = Math.abs(have[i]! - want[i]!);
        if (!(diff <= tol * scale)) {
          throw new Error(`${name}: ${what} differs at ${i}: webgpu ${have[i]}, cpu float64 ${want[i]} (scale ${scale})`);
        }
      }
    });
  } finally {
    for (const a of [...cpu, ...dev]) a.dispose();
  }
}

const idx = (data: number[], shape: number[]) => A.tensor(ndTensor(data, { shape, dtype: "int32", device: "webgpu" }));
// Index tensors must live on the device of the computation: build them from the input's device.
const index = (like: Tensor, data: number[], shape: number[]) =>
  like.device === "webgpu" ? idx(data, shape) : A.tensor(ndTensor(data, { shape, dtype: "int32" }));

const CASES: [string, Input[], (...xs: Tensor[]) => Tensor, number?][] = [
  // elementwise, unary
  ["neg", [{ shape: [3, 4] }], (x) => x!.neg()],
  ["abs", [{ shape: [3, 4], gen: "awayFromZero" }], (x) => x!.abs()],
  ["exp", [{ shape: [3, 4] }], (x) => x!.exp()],
  ["log", [{ shape: [3, 4], gen: "positive" }], (x) => x!.log()],
  ["log1p", [{ shape: [3, 4], gen: "aboveMinusOne" }], (x) => A.log1p(x!)],
  ["expm1", [{ shape: [3, 4] }], (x) => A.expm1(x!)],
  ["sqrt", [{ shape: [3, 4], gen: "positive" }], (x) => x!.sqrt()],
  ["rsqrt", [{ shape: [3, 4], gen: "positive" }], (x) => x!.rsqrt()],
  ["square", [{ shape: [3, 4] }], (x) => x!.square()],
  ["reciprocal", [{ shape: [3, 4], gen: "awayFromZero" }], (x) => x!.reciprocal()],
  ["sin", [{ shape: [3, 4] }], (x) => x!.sin()],
  ["cos", [{ shape: [3, 4] }], (x) => x!.cos()],
  ["tanh", [{ shape: [3, 4] }], (x) => x!.tanh()],
  ["sigmoid", [{ shape: [3, 4] }], (x) => x!.sigmoid()],
  ["softplus", [{ shape: [3, 4] }], (x) => x!.softplus()],
  ["relu", [{ shape: [3, 4], gen: "awayFromZero" }], (x) => x!.relu()],
  ["elu", [{ shape: [3, 4], gen: "awayFromZero" }], (x) => x!.elu(0.7)],
  ["clamp", [{ shape: [3, 4], gen: "awayFromZero" }], (x) => x!.clamp(-0.9, 0.8)],
  ["sign, floor, ceil, round (zero gradients)", [{ shape: [3, 4], gen: "awayFromZero" }], (x) =>
    x!.sign().add(A.floor(x!)).add(A.ceil(x!)).add(A.round(x!)).add(x!)],
  // elementwise, binary with broadcasting
  ["add (broadcast)", [{ shape: [2, 3, 4] }, { shape: [3, 1] }], (a, b) => a!.add(b!)],
  ["sub (broadcast)", [{ shape: [3, 1] }, { shape: [2, 1, 4] }], (a, b) => a!.sub(b!)],
  ["mul (broadcast)", [{ shape: [2, 3, 4] }, { shape: [4] }], (a, b) => a!.mul(b!)],
  ["div (broadcast)", [{ shape: [2, 3, 4] }, { shape: [3, 4], gen: "awayFromZero" }], (a, b) => a!.div(b!)],
  ["pow", [{ shape: [3, 4], gen: "positive" }, { shape: [3, 4] }], (a, b) => a!.pow(b!)],
  ["pow by a scalar", [{ shape: [3, 4] }], (a) => a!.pow(3)],
  ["maximum", [{ shape: [3, 4] }, { shape: [3, 4] }], (a, b) => a!.maximum(b!)],
  ["minimum", [{ shape: [3, 4] }, { shape: [1, 4] }], (a, b) => a!.minimum(b!)],
  ["where", [{ shape: [3, 4] }, { shape: [3, 4] }], (a, b) => A.where(a!.gt(0), a!, b!)],
  // reductions
  ["sum (all)", [{ shape: [3, 5] }], (x) => x!.sum()],
  ["sum (axes, keepdim)", [{ shape: [2, 3, 5] }], (x) => x!.sum([0, 2], true)],
  ["sum (long rows: workgroup tree)", [{ shape: [3, 700] }], (x) => x!.sum(1)],
  ["sum (very long row: two passes)", [{ shape: [70000] }], (x) => x!.sum(), 1e-3],
  ["mean", [{ shape: [4, 6] }], (x) => x!.mean(0)],
  ["prod", [{ shape: [3, 4], gen: "awayFromZero" }], (x) => x!.prod(1)],
  ["max", [{ shape: [4, 6] }], (x) => x!.max(1)],
  ["min", [{ shape: [4, 6] }], (x) => x!.min(0)],
  ["var", [{ shape: [4, 6] }], (x) => x!.var(1)],
  ["logSumExp", [{ shape: [4, 6] }], (x) => x!.logSumExp(1)],
  ["softmax", [{ shape: [4, 6] }], (x) => x!.softmax(1)],
  ["logSoftmax", [{ shape: [4, 6] }], (x) => x!.logSoftmax(-1)],
  // views
  ["reshape, permute, transpose", [{ shape: [2, 3, 4] }], (x) => x!.reshape([6, 4]).transpose(0, 1).reshape([2, 2, 6]).permute([2, 0, 1])],
  ["narrow, slice, select", [{ shape: [4, 6] }], (x) => x!.narrow(0, 1, 2).slice(1, 0, 6, 2).add(x!.select(0, 3).slice(0, 1, 4))],
  ["expand, squeeze, unsqueeze, flatten", [{ shape: [3, 1] }], (x) => x!.expand([2, 3, 4]).unsqueeze(0).squeeze(0).flatten(1)],
  ["contiguous, clone, cast", [{ shape: [3, 4] }], (x) => x!.transpose(0, 1).contiguous().clone().cast(x!.dtype).mul(2)],
  // products
  ["matmul 2-D", [{ shape: [5, 7] }, { shape: [7, 3] }], (a, b) => a!.matmul(b!)],
  ["matmul batched with broadcasting", [{ shape: [2, 1, 4, 5] }, { shape: [3, 5, 2] }], (a, b) => a!.matmul(b!)],
  ["matmul vector cases", [{ shape: [5] }, { shape: [5, 3] }, { shape: [3] }], (a, b, c) => a!.matmul(b!).mul(b!.matmul(c!).sum())],
  ["matmul transposed operands", [{ shape: [7, 5] }, { shape: [3, 7] }], (a, b) => a!.transpose(0, 1).matmul(b!.transpose(0, 1))],
  ["matmul, split-K path (long K)", [{ shape: [6, 1100] }, { shape: [1100, 5] }], (a, b) => a!.matmul(b!), 1e-3],
  ["matmul, medium tiles", [{ shape: [130, 40] }, { shape: [40, 140] }], (a, b) => a!.matmul(b!), 1e-3],
  // convolution and pooling
  ["conv2d (padding, bias)", [{ shape: [2, 3, 6, 6] }, { shape: [4, 3, 3, 3] }, { shape: [4] }], (x, w, b) =>
    A.conv2d(x!, w!, b!, { padding: 1 })],
  ["conv2d (stride 2, dilation 2)", [{ shape: [2, 2, 9, 8] }, { shape: [3, 2, 2, 3] }], (x, w) =>
    A.conv2d(x!, w!, null, { stride: 2, dilation: 2, padding: [1, 0] })],
  ["conv2d (groups 2)", [{ shape: [1, 4, 5, 5] }, { shape: [6, 2, 3, 3] }], (x, w) => A.conv2d(x!, w!, null, { groups: 2, padding: 1 })],
  ["conv2d (many images: long weight-gradient reduction)", [{ shape: [16, 3, 12, 12] }, { shape: [8, 3, 3, 3] }], (x, w) =>
    A.conv2d(x!, w!, null, { padding: 1 }), 1e-3],
  ["maxPool2d", [{ shape: [2, 3, 6, 6] }], (x) => A.maxPool2d(x!, 2)],
  ["maxPool2d (overlapping windows, padding)", [{ shape: [1, 2, 7, 7] }], (x) => A.maxPool2d(x!, 3, { stride: 2, padding: 1 })],
  ["avgPool2d", [{ shape: [2, 3, 6, 6] }], (x) => A.avgPool2d(x!, 2)],
  ["avgPool2d (overlapping, padding, exclude pad)", [{ shape: [1, 2, 7, 7] }], (x) =>
    A.avgPool2d(x!, 3, { stride: 2, padding: 1, countIncludePad: false })],
  // indexing
  ["gather", [{ shape: [3, 5] }], (x) => x!.gather(1, index(x!, [0, 4, 4, 1, 2, 2], [3, 2]))],
  ["indexSelect", [{ shape: [4, 3] }], (x) => x!.indexSelect(0, index(x!, [3, 0, 3], [3]))],
  ["scatterAdd", [{ shape: [3, 4] }, { shape: [3, 2] }], (x, s) => A.scatterAdd(x!, 1, index(x!, [1, 1, 0, 3, 2, 2], [3, 2]), s!)],
  ["indexAdd", [{ shape: [4, 3] }, { shape: [2, 3] }], (x, s) => A.indexAdd(x!, 0, index(x!, [2, 2], [2]), s!)],
  // joins
  ["concat, stack, split", [{ shape: [2, 3] }, { shape: [2, 2] }], (a, b) => {
    const c = A.concat([a!, b!], 1);
    const [p, q] = A.split(c, [1, 4], 1);
    return A.stack([p!.expand([2, 4]), q!], 0);
  }],
];

const baseline = gpu?.backend.memory().storages ?? 0;
for (const [name, inputs, fn, tol] of CASES) {
  Deno.test({ name: `autograd on webgpu: ${name}`, ignore: noGpu, fn: () => compare(name, inputs, fn, tol) });
}

Deno.test({
  name: "autograd on webgpu: gradcheckOnDevice passes correct gradients and catches a skewed one, leaving nothing allocated",
  ignore: noGpu,
  fn: async () => {
    const before = gpu!.backend.memory().storages;
    const gen = new Generator(5);
    const input = (shape: number[]) => A.randn(shape, { dtype: "float64", generator: gen, requiresGrad: true });
    const passed = await A.gradcheckOnDevice((x, w) => x!.matmul(w!).relu().sum(1), [input([4, 5]), input([5, 3])], { device: "webgpu" });
    if (!passed.pass || passed.inputs.length !== 2) throw new Error(`the README's example failed: ${JSON.stringify(passed.inputs)}`);
    // Only the float32 (device) run gets the skewed gradient, as from a faulty kernel.
    class Skewed extends A.Function {
      static override forward(_ctx: A.FunctionCtx, x: Tensor): Tensor {
        return x.mul(2);
      }
      static override backward(_ctx: A.FunctionCtx, g: Tensor): [Tensor] {
        return [g.mul(g.dtype === "float32" ? 2.02 : 2)];
      }
    }
    const skewed = await A.gradcheckOnDevice((x) => Skewed.apply(x!), [input([6])], { device: "webgpu", raiseException: false });
    const check = skewed.inputs[0]!;
    if (skewed.pass || check.outside !== 6 || check.deviceGradient.length !== 6) {
      throw new Error(`a 1% skew on every element was not caught: ${check.outside} of 6 outside`);
    }
    const left = gpu!.backend.memory().storages - before;
    if (left !== 0) throw new Error(`gradcheckOnDevice left ${left} storages allocated on the GPU`);
  },
});

Deno.test({
  name: "autograd on webgpu: no storage leaks across the gradient checks",
  ignore: noGpu,
  fn: () => {
    const live = gpu!.backend.memory().storages - baseline;
    if (live !== 0) throw new Error(`${live} storages are still allocated on the GPU after the gradient checks`);
  },
});

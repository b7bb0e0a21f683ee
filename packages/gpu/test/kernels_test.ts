/**
 * The backend's own code paths that the conformance suite's small random shapes do not reach: dispatches
 * folded into two grid dimensions, two-pass reductions, split-K and large GEMM tiles, atomic index adds,
 * device-side index errors, overlapping copies, float64 refusal, the limits, and the buffer pool.
 */
import {
  concat,
  conv2d,
  conv2dBackwardInput,
  conv2dBackwardWeight,
  DTypeError,
  full,
  Generator,
  indexAdd,
  type NDArray,
  rand,
  randn,
  scatterAdd,
  tensor,
  tidy,
  ValueError,
  where,
} from "@backprop/tensor";
import { GpuLimitError } from "../src/mod.ts";
import { gpu, noGpu } from "./setup.ts";

const test = (name: string, fn: () => Promise<void> | void) => Deno.test({ name: `webgpu kernels: ${name}`, ignore: noGpu, fn });

function assertClose(name: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void {
  if (got.length !== want.length) throw new Error(`${name}: ${got.length} values, expected ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i]! - want[i]!) <= tol * Math.max(1, Math.abs(want[i]!)))) {
      throw new Error(`${name}: at ${i} got ${got[i]}, expected ${want[i]}`);
    }
  }
}

/** Evaluates `make(device)` on the CPU and the GPU and compares the values. */
async function sameOnBoth(name: string, make: (device: string) => NDArray, tol: number): Promise<void> {
  const cpu = tidy(() => make("cpu"));
  const dev = tidy(() => make("webgpu"));
  try {
    assertClose(name, await dev.data(), cpu.dataSync(), tol);
  } finally {
    cpu.dispose();
    dev.dispose();
  }
}

// Uniform numbers are bit-identical on both devices (and so is subtracting 0.5 and scaling by 4), so the inputs of
// both sides are the same.
const randomOn = (shape: number[], seed: number, device: string) =>
  rand(shape, { generator: new Generator(seed), device }).sub(0.5).mul(4);

test("elementwise over more than 65535 workgroups (two-dimensional grid)", async () => {
  const n = 65536 * 256 + 1000;
  const x = tensor(new Float32Array(n).map((_, i) => i % 1000), { device: "webgpu" });
  const y = x.mul(2).add(1);
  const v = await y.data();
  for (const i of [0, 999, 65535 * 256, n - 1]) {
    if (v[i] !== (i % 1000) * 2 + 1) throw new Error(`at ${i}: got ${v[i]}`);
  }
  x.dispose();
  y.dispose();
});

test("reductions: long rows in two passes, many short rows, argmax over a long row", async () => {
  await sameOnBoth("sum of 300000", (d) => randomOn([300000], 1, d).sum(), 1e-4);
  await sameOnBoth("max of 3 × 100000", (d) => randomOn([3, 100000], 2, d).max(1), 0);
  await sameOnBoth("prod of 5000 × 7", (d) => randomOn([5000, 7], 3, d).mul(0.1).add(1).prod(1), 1e-5);
  await sameOnBoth("int32 sum", (d) => tensor(Array.from({ length: 5000 }, (_, i) => (i % 7) - 3), { device: d }).sum(), 0);
  await sameOnBoth("argmax of 200000", (d) => randomOn([200000], 4, d).argmax(), 0);
  await sameOnBoth("argmin rows", (d) => randomOn([300, 301], 5, d).argmin(1), 0);
});

test("matmul: all tile sizes, split-K, int32, transposed and broadcast operands", async () => {
  // Small, medium and large (2048 × 1536: 192 tiles of 128²) tiles, and split-K (8 × 3000 × 8).
  for (const [m, k, n] of [[1, 1, 1], [33, 17, 65], [70, 90, 60], [256, 64, 200], [2048, 8, 1536], [8, 3000, 8]] as const) {
    await sameOnBoth(`${m}×${k}×${n}`, (d) => randomOn([m, k], 6, d).matmul(randomOn([k, n], 7, d)), 1e-4 * Math.sqrt(k));
    await sameOnBoth(`${m}×${k}×${n} transposed`, (d) => randomOn([k, m], 8, d).T.matmul(randomOn([n, k], 9, d).T), 1e-4 * Math.sqrt(k));
  }
  await sameOnBoth("broadcast batch", (d) => randomOn([3, 1, 20, 30], 10, d).matmul(randomOn([4, 30, 10], 11, d)), 1e-4);
  await sameOnBoth(
    "int32",
    (d) => tensor(Array.from({ length: 60 }, (_, i) => (i % 5) - 2), { device: d, shape: [6, 10] })
      .matmul(tensor(Array.from({ length: 40 }, (_, i) => (i % 3) - 1), { device: d, shape: [10, 4] })),
    0,
  );
});

test("conv2d: a CIFAR-sized layer, forward and both gradients", async () => {
  const x = (d: string) => randomOn([8, 16, 16, 16], 12, d);
  const w = (d: string) => randomOn([32, 16, 3, 3], 13, d);
  const g = (d: string) => randomOn([8, 32, 16, 16], 14, d);
  const opts = { padding: 1 };
  await sameOnBoth("forward", (d) => conv2d(x(d), w(d), null, opts), 1e-4);
  await sameOnBoth("input gradient", (d) => conv2dBackwardInput(g(d), w(d), [8, 16, 16, 16], opts), 1e-4);
  await sameOnBoth("weight gradient", (d) => conv2dBackwardWeight(x(d), g(d), [32, 16, 3, 3], opts), 1e-3);
});

test("scatterAdd and indexAdd with many index entries use atomic adds and still sum correctly", async () => {
  const n = 4000, size = 300;
  const idx = Array.from({ length: n }, (_, i) => (i * 7919) % size);
  const src = Array.from({ length: n * 2 }, (_, i) => ((i % 13) - 6) / 8);
  await sameOnBoth("scatterAdd", (d) => {
    const index = tensor(idx.flatMap((v) => [v, (v + 1) % size]), { device: d, dtype: "int32", shape: [n, 2] });
    return scatterAdd(tensor(new Float32Array(size * 2), { device: d, shape: [size, 2] }), 0, index, tensor(src, { device: d, dtype: "float32", shape: [n, 2] }));
  }, 1e-5);
  await sameOnBoth("indexAdd int32", (d) => {
    const index = tensor(idx, { device: d, dtype: "int32" });
    return indexAdd(tensor(new Int32Array(size * 2), { device: d, shape: [size, 2] }), 0, index, tensor(src.map((v) => v * 8), { device: d, dtype: "int32", shape: [n, 2] }));
  }, 0);
});

test("strided operands read in place: two-pass, tree and atomic paths over transposed, sliced and broadcast views", async () => {
  await sameOnBoth("sum of a transposed 300000", (d) => randomOn([600, 500], 21, d).T.sum(1), 1e-4);
  await sameOnBoth("two-pass sum over leading axes", (d) => randomOn([2000, 3, 40], 22, d).permute([1, 2, 0]).sum([1, 2]), 1e-4);
  await sameOnBoth("max of a sliced broadcast", (d) => randomOn([1, 700], 23, d).expand([90, 700]).slice(1, 3, 700, 4).max(0), 0);
  await sameOnBoth("argmax down long columns", (d) => randomOn([500, 30], 24, d).argmax(0), 0);
  await sameOnBoth("argmax and argmin of transposed bools", (d) => {
    const b = randomOn([40, 300], 28, d).gt(0).T;
    return b.argmax(1).add(b.argmin(1).mul(1000));
  }, 0);
  const n = 4000, size = 300;
  const idx = Array.from({ length: n * 2 }, (_, i) => (i * 7919) % size);
  await sameOnBoth("atomic scatterAdd of a transposed source", (d) => {
    const index = tensor(idx, { device: d, dtype: "int32", shape: [2, n] }).T;
    const src = randomOn([2, n], 25, d).T;
    return scatterAdd(tensor(new Float32Array(size * 2), { device: d, shape: [size, 2] }), 0, index, src);
  }, 1e-4);
  await sameOnBoth("gather from a transposed array", (d) => {
    const index = tensor(idx.slice(0, 2 * 600), { device: d, dtype: "int32", shape: [2, 600] });
    return randomOn([size, 2], 26, d).T.gather(1, index);
  }, 0);
});

test("a sum over leading axes is one dispatch: of a transposed array, and of a deferred expression", async () => {
  const x = randomOn([64, 96], 27, "webgpu");
  await x.data();
  const backend = gpu!.backend;
  const count = async (make: () => NDArray) => {
    backend.resetStats();
    const y = make();
    await y.data();
    y.dispose();
    return backend.stats();
  };
  const plain = await count(() => tidy(() => x.T.sum(0)));
  const fused = await count(() => tidy(() => x.mul(2).add(1).permute([1, 0]).sum(1)));
  x.dispose();
  if (plain.dispatches !== 1 || plain.byKernel["reduce:sum"] !== 1) throw new Error(`transposed sum: ${JSON.stringify(plain.byKernel)}`);
  if (fused.dispatches !== 1 || fused.byKernel["deferred-reduce"] !== 1) throw new Error(`deferred sum: ${JSON.stringify(fused.byKernel)}`);
});

test("an out-of-range index is reported as a ValueError by the next read", async () => {
  const x = tensor([1, 2, 3], { device: "webgpu", dtype: "float32" });
  const index = tensor([0, 5], { device: "webgpu", dtype: "int32" });
  const y = x.gather(0, index);
  let error: unknown = null;
  try {
    await y.data();
  } catch (e) {
    error = e;
  }
  if (!(error instanceof ValueError) || !/gather: index 5 is out of range 0\.\.2/.test(error.message)) {
    throw new Error(`expected a ValueError naming gather and index 5, got ${error}`);
  }
  // The error is reported once; the device is usable afterwards.
  const v = await x.add(1).data();
  assertClose("after the error", v, [2, 3, 4], 0);
  for (const a of [x, index, y]) a.dispose();
});

test("copy into a view of its own storage goes through a temporary", async () => {
  const a = tensor([1, 2, 3, 4, 5, 6], { device: "webgpu", dtype: "float32" });
  // Writes a[0..2] over a[3..5] of the same storage.
  a.backend.copy(a.narrow(0, 0, 3), a.narrow(0, 3, 3));
  assertClose("self copy", await a.data(), [1, 2, 3, 1, 2, 3], 0);
  a.dispose();
});

test("uniform random numbers equal the CPU's exactly, normal ones to float32 rounding", async () => {
  const counter = 2 ** 32 - 3; // crosses into the counter's high word
  for (const [dist, tol] of [["uniform", 0], ["normal", 2e-6]] as const) {
    await sameOnBoth(dist, (d) => {
      const gen = new Generator(77);
      gen.counter = counter;
      return dist === "uniform" ? rand([1001], { generator: gen, device: d }) : randn([1001], { generator: gen, device: d });
    }, tol);
  }
});

test("float64 is refused with a DTypeError naming WebGPU", () => {
  for (const f of [
    () => tensor([1, 2], { device: "webgpu", dtype: "float64" }),
    () => randn([2], { device: "webgpu", dtype: "float64" }),
  ]) {
    let error: unknown = null;
    try {
      tidy(f);
    } catch (e) {
      error = e;
    }
    if (!(error instanceof DTypeError) || !/float64 is not supported on WebGPU/.test(error.message)) {
      throw new Error(`expected a DTypeError about float64, got ${error}`);
    }
  }
  if (gpu!.backend.supportsFloat64) throw new Error("supportsFloat64 must be false");
});

test("a tensor larger than one binding is refused with a GpuLimitError", () => {
  const limit = gpu!.limits.maxStorageBufferBindingSize;
  let error: unknown = null;
  try {
    gpu!.backend.alloc("float32", Math.floor(limit / 4) + 1);
  } catch (e) {
    error = e;
  }
  if (!(error instanceof GpuLimitError) || !/maxStorageBufferBindingSize/.test(error.message)) {
    throw new Error(`expected a GpuLimitError naming the binding limit, got ${error}`);
  }
});

test("released buffers are reused: the pool holds no more after repeating the same work", async () => {
  const step = () =>
    tidy(() => {
      const x = randomOn([64, 100], 15, "webgpu");
      return x.matmul(x.T).relu().sum().add(x.mean());
    });
  step().dispose();
  const held = gpu!.backend.memory().heldBytes;
  for (let i = 0; i < 20; i++) step().dispose();
  await gpu!.backend.sync();
  const after = gpu!.backend.memory();
  if (after.heldBytes !== held) throw new Error(`pool grew from ${held} to ${after.heldBytes} bytes over identical steps`);
});

test("pending constants: full arrays as operands, copies and casts of them, partly overwritten allocations", async () => {
  await sameOnBoth("constant + constant", (d) => full([], 2, { device: d }).add(3), 0);
  await sameOnBoth("constant matrix * view", (d) => full([3, 4], -1.5, { device: d }).mul(randomOn([4], 16, d)), 0);
  await sameOnBoth("where(constant cond, constant, view)", (d) => where(full([2, 3], 1, { device: d, dtype: "bool" }), 7, randomOn([3], 17, d)), 0);
  await sameOnBoth("where(view cond, view, 0)", (d) => {
    const x = randomOn([5, 6], 18, d);
    return where(x.gt(0), x, 0);
  }, 0);
  await sameOnBoth("clone of a constant", (d) => full([4, 5], 3.25, { device: d }).clone().add(1), 0);
  await sameOnBoth("cast of a constant", (d) => full([4, 5], 3.75, { device: d }).cast("int32").cast("float32"), 0);
  await sameOnBoth("constant viewed, made contiguous", (d) => full([4, 5], 2, { device: d }).T.contiguous().mul(randomOn([5, 4], 19, d)), 0);
  await sameOnBoth("concat of constants and views", (d) => concat([full([2, 3], 5, { device: d }), randomOn([1, 3], 20, d), full([2, 3], 0, { device: d })], 0), 0);
  await sameOnBoth("sum of a constant", (d) => full([1000], 0.5, { device: d }).sum(), 0);
  await sameOnBoth("matmul with a constant", (d) => full([3, 4], 0.25, { device: d }).matmul(randomOn([4, 2], 21, d)), 1e-6);
});

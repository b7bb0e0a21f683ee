/**
 * Deferred elementwise work (src/deferral.ts) against the same work run op by op (`backend.deferral = false`):
 * random chains of elementwise ops, views (transpose, slice, broadcast, reshape), copies and reductions, so that
 * every way a consumer can read a pending result — composed through a view, inlined into a reduction, or run
 * first when its window cannot be composed — is compared with the kernel-per-op path. And the `opq_` guard that
 * keeps the shader compiler from folding across operations.
 */
import { Tensor } from "@backprop/autograd";
import { Adam, Parameter } from "@backprop/nn";
import { E, full, fused, type NDArray, tensor, tidy, where } from "@backprop/tensor";
import fc from "fast-check";
import { deferredKernel, type DeferredProgram, programKey, type Step } from "../src/kernels/deferred.ts";
import { gpu, noGpu } from "./setup.ts";

const test = (name: string, fn: () => Promise<void> | void) => Deno.test({ name: `webgpu deferral: ${name}`, ignore: noGpu, fn });

/**
 * Deferred and op-by-op results must agree to float32 rounding: each deferred operation rounds as its own
 * kernel does (see `opq_`), and a reduction over a pending input adds in the same order, so in practice they are
 * identical; the check allows 2 float32 ulps (relative 2.4e-7) so that a driver's transcendental functions,
 * evaluated in another kernel, may differ in the last bit. NaN must match NaN, ±∞ must match exactly.
 */
function agree(got: number, want: number): boolean {
  if (Number.isNaN(want) || Number.isNaN(got)) return Number.isNaN(want) && Number.isNaN(got);
  if (!Number.isFinite(want) || !Number.isFinite(got)) return got === want;
  return Math.abs(got - want) <= 2.4e-7 * Math.abs(want) + 1e-37;
}

type Command =
  | { kind: "unary"; op: (typeof UNARY)[number]; i: number }
  | { kind: "binary"; op: (typeof BINARY)[number]; i: number; j: number }
  | { kind: "transpose"; i: number }
  | { kind: "slice"; i: number; dim: number; start: number; length: number }
  | { kind: "reshape"; i: number }
  | { kind: "broadcast"; i: number; n: number }
  | { kind: "reduce"; op: "sum" | "max"; i: number; dim: number }
  | { kind: "contiguous"; i: number }
  | { kind: "where"; i: number; j: number; k: number };

const UNARY = ["neg", "abs", "exp", "square", "relu", "tanh", "sqrt"] as const;
const BINARY = ["add", "sub", "mul", "div", "maximum"] as const;
const MAX_ELEMENTS = 4096;

const index = fc.nat(63);
const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ kind: fc.constant("unary" as const), op: fc.constantFrom(...UNARY), i: index }),
  fc.record({ kind: fc.constant("binary" as const), op: fc.constantFrom(...BINARY), i: index, j: index }),
  fc.record({ kind: fc.constant("transpose" as const), i: index }),
  fc.record({ kind: fc.constant("slice" as const), i: index, dim: fc.nat(3), start: fc.nat(4), length: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ kind: fc.constant("reshape" as const), i: index }),
  fc.record({ kind: fc.constant("broadcast" as const), i: index, n: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant("reduce" as const), op: fc.constantFrom("sum" as const, "max" as const), i: index, dim: fc.nat(3) }),
  fc.record({ kind: fc.constant("contiguous" as const), i: index }),
  fc.record({ kind: fc.constant("where" as const), i: index, j: index, k: index }),
);

/** The broadcast shape of `a` and `b`, or null when they do not broadcast. */
function broadcastShape(a: readonly number[], b: readonly number[]): number[] | null {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let d = 0; d < n; d++) {
    const x = a[a.length - n + d] ?? 1, y = b[b.length - n + d] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(Math.max(x, y));
  }
  return out;
}

/** Applies `cmd` to the arrays made so far, appending the result (or nothing where it does not apply). */
function apply(xs: NDArray[], cmd: Command): void {
  const pick = (i: number) => xs[i % xs.length]!;
  const x = pick(cmd.i);
  let out: NDArray | null = null;
  switch (cmd.kind) {
    case "unary":
      out = x[cmd.op]();
      break;
    case "binary": {
      const y = pick(cmd.j);
      out = broadcastShape(x.shape, y.shape) ? x[cmd.op](y) : x[cmd.op](x);
      break;
    }
    case "transpose":
      if (x.ndim >= 2) out = x.transpose(-2, -1);
      break;
    case "slice": {
      if (x.ndim === 0) break;
      const dim = cmd.dim % x.ndim, size = x.shape[dim]!;
      const start = cmd.start % size;
      out = x.narrow(dim, start, Math.min(cmd.length, size - start));
      break;
    }
    case "reshape":
      if (x.ndim >= 2) out = x.flatten();
      else if (x.ndim === 1 && x.size % 2 === 0 && x.size > 2) out = x.reshape([2, x.size / 2]);
      break;
    case "broadcast":
      if (x.ndim < 4 && x.size * cmd.n <= MAX_ELEMENTS) out = x.reshape([1, ...x.shape]).expand([cmd.n + 1, ...x.shape]);
      break;
    case "reduce":
      if (x.ndim > 0 && x.size > 0) out = x[cmd.op](cmd.dim % x.ndim, true);
      break;
    case "contiguous":
      out = x.contiguous();
      break;
    case "where": {
      const a = pick(cmd.j), b = pick(cmd.k);
      const ab = broadcastShape(a.shape, b.shape);
      if (ab && broadcastShape(x.shape, ab)) out = where(x.gt(0), a, b);
      break;
    }
  }
  if (out) xs.push(out);
}

/** Inputs [rows, cols] and [cols] from `values` (cycled), with NaN, ±∞ and ±0 among them. */
function inputs(rows: number, cols: number, values: readonly number[]): NDArray[] {
  const at = (k: number) => values[k % values.length]!;
  const a = tensor(Array.from({ length: rows * cols }, (_, k) => at(k)), { dtype: "float32", device: "webgpu" }).reshape([rows, cols]);
  const b = tensor(Array.from({ length: cols }, (_, k) => at(k + 7)), { dtype: "float32", device: "webgpu" });
  return [a, b];
}

/** Runs `commands` from fresh inputs with deferral on or off and reads every array made. */
async function run(deferral: boolean, rows: number, cols: number, values: readonly number[], commands: readonly Command[]): Promise<Float32Array[]> {
  const backend = gpu!.backend;
  backend.deferral = deferral;
  try {
    const made = tidy(() => {
      const xs = inputs(rows, cols, values);
      for (const c of commands) apply(xs, c);
      return xs.map((x) => x.keep());
    });
    const data = await Promise.all(made.map((x) => x.data()));
    for (const x of made) x.dispose();
    return data as Float32Array[];
  } finally {
    backend.deferral = true;
  }
}

const value = fc.oneof(
  { weight: 20, arbitrary: fc.float({ min: -3, max: 3, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity, 0, -0) },
);

test("random chains of elementwise ops, views, copies and reductions equal the op-by-op kernels", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 7 }),
      fc.array(value, { minLength: 1, maxLength: 16 }),
      fc.array(command, { minLength: 1, maxLength: 8 }),
      async (rows, cols, values, commands) => {
        const deferred = await run(true, rows, cols, values, commands);
        const opByOp = await run(false, rows, cols, values, commands);
        deferred.forEach((got, a) => {
          const want = opByOp[a]!;
          for (let k = 0; k < want.length; k++) {
            if (!agree(got[k]!, want[k]!)) throw new Error(`array ${a}, element ${k}: deferred ${got[k]}, op by op ${want[k]}`);
          }
        });
      },
    ),
    { numRuns: 25, seed: 1515 },
  );
  if (gpu!.backend.pendingStorages !== 0) throw new Error(`${gpu!.backend.pendingStorages} pending storages left after disposal`);
});

test("a chain actually runs as fewer dispatches than op by op", async () => {
  const backend = gpu!.backend;
  const count = async (deferral: boolean) => {
    backend.deferral = deferral;
    try {
      const before = backend.stats().dispatches;
      const y = tidy(() => {
        const [a, b] = inputs(4, 5, [0.5, -1.25, 2, 3.5]);
        return a!.mul(b!).add(1).relu().transpose(0, 1).sub(b!.reshape([5, 1])).exp().sum(1).keep();
      });
      await y.data();
      y.dispose();
      return backend.stats().dispatches - before;
    } finally {
      backend.deferral = true;
    }
  };
  const [deferred, opByOp] = [await count(true), await count(false)];
  // Op by op: mul, add, relu, sub, exp, sum (and the two uploads' none); deferred: the sum with its input inlined.
  if (deferred !== 1 || opByOp !== 6) throw new Error(`dispatches: deferred ${deferred} (expected 1), op by op ${opByOp} (expected 6)`);
});

// ---- the opq_ guard ----

test("x + (−x) is not folded to 0: ∞ and NaN give NaN, as op by op", async () => {
  const values = [Infinity, -Infinity, NaN, 1.5, -0, 3e38];
  const results = await Promise.all([true, false].map(async (deferral) => {
    gpu!.backend.deferral = deferral;
    try {
      const y = tidy(() => {
        const x = tensor(values, { dtype: "float32", device: "webgpu" });
        return x.add(x.neg()).keep();
      });
      const d = await y.data();
      y.dispose();
      return Array.from(d);
    } finally {
      gpu!.backend.deferral = true;
    }
  }));
  const want = [NaN, NaN, NaN, 0, 0, 0];
  for (const got of results) {
    want.forEach((w, k) => {
      if (!Object.is(got[k], w) && !(Number.isNaN(w) && Number.isNaN(got[k]))) throw new Error(`x + (−x) at ${values[k]}: got ${got[k]}, expected ${w}`);
    });
  }
});

test("a product and a sum round separately (no fused multiply-add contraction)", async () => {
  // a·a = 1 + 2⁻¹¹ + 2⁻²⁴ rounds to 1 + 2⁻¹¹, so a·a − (1 + 2⁻¹¹) is 0; one FMA would give 2⁻²⁴.
  const a = 1 + 2 ** -12, c = -(1 + 2 ** -11);
  const y = tidy(() => {
    const x = tensor([a, a, a], { dtype: "float32", device: "webgpu" });
    const deferredChain = x.mul(x).add(c);
    const [fusedChain] = fused([E.add(E.mul(E.input(0), E.input(0)), E.param(0))], [x], [c]);
    return [deferredChain.keep(), fusedChain!.keep()];
  });
  const data = await Promise.all(y.map((t) => t.data()));
  for (const t of y) t.dispose();
  for (const d of data) if (Array.from(d).some((v) => v !== 0)) throw new Error(`a·a + c: got ${Array.from(d)}, expected 0 (rounded twice)`);
});

test("a constant in an expression is not folded: 0 / x and 0 · x give NaN at 0, NaN and ∞, deferred and fused", async () => {
  const values = [0, NaN, Infinity, -Infinity, 2, -0];
  const want = [[NaN, NaN, 0, -0, 0, NaN], [0, NaN, NaN, NaN, 0, -0]];
  const results = await both(() => {
    const x = tensor(values, { dtype: "float32", device: "webgpu" });
    const zero = E.constant(0);
    const [div, mul] = fused([E.div(zero, E.input(0)), E.mul(zero, E.input(0))], [x]);
    const [alone] = fused([E.div(zero, E.input(0))], [x]);
    return [div!, mul!, alone!];
  });
  for (const run of results.data) {
    run.forEach((got, k) => {
      const w = want[k === 1 ? 1 : 0]!;
      w.forEach((v, i) => {
        if (!Object.is(got[i], v) && !(Number.isNaN(v) && Number.isNaN(got[i]!))) throw new Error(`output ${k} at ${values[i]}: got ${got[i]}, expected ${v}`);
      });
    });
  }
});

test("x − x, x / x and a subexpression subtracted from itself are not folded, deferred and fused", async () => {
  const values = [0, NaN, Infinity, -Infinity, 1.5];
  const { data } = await both(() => {
    const x = tensor(values, { dtype: "float32", device: "webgpu" });
    const [fsub, fexp] = fused([E.sub(E.input(0), E.input(0)), E.sub(E.exp(E.input(0)), E.exp(E.input(0)))], [x]);
    return [x.sub(x), x.div(x), x.exp().sub(x.exp()), fsub!, fexp!];
  });
  const want = [[0, NaN, NaN, NaN, 0], [NaN, NaN, NaN, NaN, 1], [0, NaN, NaN, 0, 0], [0, NaN, NaN, NaN, 0], [0, NaN, NaN, 0, 0]];
  data.forEach((run, mode) =>
    run.forEach((got, k) =>
      want[k]!.forEach((w, i) => {
        if (!Object.is(got[i], w) && !(Number.isNaN(w) && Number.isNaN(got[i]!))) {
          throw new Error(`${mode === 0 ? "deferred" : "op by op"} output ${k} at ${values[i]}: got ${got[i]}, expected ${w}`);
        }
      })
    )
  );
});

test("every operation of a deferred kernel passes through opq_, whose mask word is never written", () => {
  const steps: Step[] = [
    { kind: "leaf", leaf: 0 },
    { kind: "op", expr: E.neg(E.input(0)), args: [0] },
    { kind: "op", expr: E.add(E.input(0), E.input(1)), args: [0, 1] },
    { kind: "op", expr: E.mul(E.input(0), E.input(0)), args: [2] },
  ];
  const program: DeferredProgram = {
    steps,
    leafDtypes: ["float32"],
    params: 0,
    outputs: [3],
    outputDtypes: ["float32"],
    key: programKey(steps, ["float32"], [3], ["float32"]),
  };
  const source = deferredKernel(program, 1).source();
  if (!source.includes("bitcast<u32>(x) | pu(63u)")) throw new Error("opq_ no longer ORs in parameter word 63");
  for (let j = 1; j < steps.length; j++) {
    if (!new RegExp(`let t${j} = opq_\\(`).test(source)) throw new Error(`step ${j} is not wrapped in opq_:\n${source}`);
  }
});

// ---- reductions grouped, split-K sums read by the consumer ----

/** Runs `f` with deferral on and off; returns both results' values and the dispatches each took. */
async function both(f: () => NDArray[]): Promise<{ data: Float32Array[][]; dispatches: number[] }> {
  const backend = gpu!.backend;
  const data: Float32Array[][] = [], dispatches: number[] = [];
  for (const deferral of [true, false]) {
    backend.deferral = deferral;
    try {
      const before = backend.stats().dispatches;
      const out = tidy(() => f().map((x) => x.keep()));
      data.push((await Promise.all(out.map((x) => x.data()))) as Float32Array[]);
      dispatches.push(backend.stats().dispatches - before);
      for (const x of out) x.dispose();
    } finally {
      backend.deferral = true;
    }
  }
  return { data, dispatches };
}

function assertAgree(what: string, got: Float32Array[], want: Float32Array[]): void {
  got.forEach((g, a) => {
    for (let k = 0; k < g.length; k++) {
      if (!agree(g[k]!, want[a]![k]!)) throw new Error(`${what}: output ${a}, element ${k}: deferred ${g[k]}, op by op ${want[a]![k]}`);
    }
  });
}

test("reductions of the same rows recorded together run as one pass with the op-by-op sums", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 2, max: 6 }),
      fc.integer({ min: 1, max: 300 }),
      fc.array(value, { minLength: 1, maxLength: 12 }),
      async (n, c, hw, values) => {
        const at = (k: number) => values[k % values.length]!;
        const make = (salt: number) =>
          tensor(Array.from({ length: n * c * hw }, (_, k) => at(k * 7 + salt)), { dtype: "float32", device: "webgpu" }).reshape([n, c, hw]);
        const { data, dispatches } = await both(() => {
          const g = make(0).relu(), x = make(3);
          // A batch norm's backward sums: Σg and Σg·x over every dimension but the channel; then two maxima.
          const sums = [g.sum([0, 2], true), g.mul(x).sum([0, 2], true), x.abs().sum([0, 2], true)];
          return [...sums, g.max([0, 2], true), x.neg().max([0, 2], true)];
        });
        assertAgree(`[${n}, ${c}, ${hw}]`, data[0]!, data[1]!);
        if (dispatches[0] !== 2) throw new Error(`three sums and two maxima of the same rows took ${dispatches[0]} dispatches, expected 2`);
      },
    ),
    { numRuns: 12, seed: 1516 },
  );
});

test("a split-K product summed by its consumer equals the op-by-op split sum", async () => {
  // A small output with a long K is split across workgroups (see kernels/gemm_run.ts).
  const k = 2048;
  const a = Array.from({ length: 4 * k }, (_, i) => Math.sin(i) * 0.5), b = Array.from({ length: k * 3 }, (_, i) => Math.cos(i * 0.7));
  const { data, dispatches } = await both(() => {
    const A = tensor(a, { dtype: "float32", device: "webgpu" }).reshape([4, k]);
    const B = tensor(b, { dtype: "float32", device: "webgpu" }).reshape([k, 3]);
    const y = A.matmul(B);
    return [y.mul(2).add(1).relu(), y.sum(0), y.transpose(0, 1).contiguous()];
  });
  assertAgree("split-K matmul", data[0]!, data[1]!);
  // Deferred: the GEMM, the two elementwise consumers and the sum, each adding the slices as it reads them.
  if (!(dispatches[0]! < dispatches[1]!)) throw new Error(`dispatches: deferred ${dispatches[0]}, op by op ${dispatches[1]}`);
});

test("int32 add, sub and mul of constants fold to constants with wrapping, as the kernels compute", async () => {
  const backend = gpu!.backend;
  const cases: [number, number][] = [[0, 1], [2147483647, 1], [-2147483648, -1], [123456, 98765], [-7, 3]];
  const { data, dispatches } = await both(() =>
    cases.flatMap(([a, b]) => {
      const x = full([3], a, { dtype: "int32", device: "webgpu" }), y = full([], b, { dtype: "int32", device: "webgpu" });
      return [x.add(y), x.sub(y), x.mul(y)];
    })
  );
  const want = cases.flatMap(([a, b]) => [(a + b) | 0, (a - b) | 0, Math.imul(a, b)]);
  for (const run of data) {
    run.forEach((d, k) => {
      if (Array.from(d).some((v) => v !== want[k])) throw new Error(`int32 case ${k}: got ${Array.from(d)}, expected ${want[k]}`);
    });
  }
  // Folded: no kernel with deferral on (reading a constant writes its buffer with a fill, not a dispatch of the op).
  const folded = dispatches[0]!, opByOp = dispatches[1]!;
  if (!(folded < opByOp)) throw new Error(`int32 constant arithmetic took ${folded} dispatches deferred, ${opByOp} op by op`);
  if (backend.pendingStorages !== 0) throw new Error(`${backend.pendingStorages} pending storages left`);
});

// ---- multi-output programs batched into one dispatch ----

test("multi-output programs over different shapes, batched, equal their op-by-op runs (outputs dropped or read in any order)", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ size: fc.integer({ min: 1, max: 700 }), transposed: fc.boolean(), keepFirst: fc.boolean(), scale: fc.float({ min: -2, max: 2, noNaN: true }) }), { minLength: 1, maxLength: 6 }),
      fc.array(value, { minLength: 1, maxLength: 10 }),
      async (programs, values) => {
        const at = (k: number) => values[k % values.length]!;
        const { data } = await both(() =>
          programs.flatMap((p, g) => {
            const cols = p.size % 7 + 1, rows = Math.ceil(p.size / cols);
            const a = tensor(Array.from({ length: rows * cols }, (_, k) => at(k + g)), { dtype: "float32", device: "webgpu" }).reshape([rows, cols]);
            const b = tensor(Array.from({ length: rows * cols }, (_, k) => at(3 * k + 1)), { dtype: "float32", device: "webgpu" }).reshape([cols, rows]);
            const x = p.transposed ? b.transpose(0, 1) : a, y = a;
            // An update rule's shape: three outputs sharing subexpressions.
            const outs = fused(
              [E.add(E.mul(E.input(0), E.param(0)), E.input(1)), E.mul(E.input(1), E.input(1)), E.sub(E.input(0), E.exp(E.input(1)))],
              [x, y],
              [p.scale],
            );
            if (!p.keepFirst) outs[0]!.dispose();
            return p.keepFirst ? outs : outs.slice(1);
          }).reverse()
        );
        assertAgree("batched programs", data[0]!, data[1]!);
      },
    ),
    { numRuns: 15, seed: 1517 },
  );
});

test("Adam over several parameters runs as fewer dispatches than parameters and matches the op-by-op update", async () => {
  const shapes = [[64, 27], [64], [128, 64], [128], [10, 128], [10]];
  const run = async (deferral: boolean) => {
    const backend = gpu!.backend;
    backend.deferral = deferral;
    try {
      const params = shapes.map((s, i) =>
        new Parameter(tidy(() => tensor(Array.from({ length: s.reduce((a, b) => a * b, 1) }, (_, k) => Math.sin(k + i)), { dtype: "float32", device: "webgpu" }).reshape(s)))
      );
      const optimizer = new Adam(params, { lr: 0.01 });
      let dispatches = 0;
      for (let step = 0; step < 3; step++) {
        params.forEach((p, i) => {
          p.grad?.dispose();
          p.grad = new Tensor(tidy(() => p.value.mul(0.5).add(i).cos()));
        });
        const before = backend.stats().dispatches;
        optimizer.step();
        backend.flush();
        dispatches = backend.stats().dispatches - before;
      }
      const out = await Promise.all(params.map((p) => p.value.data()));
      for (const p of params) {
        p.grad?.dispose();
        p.dispose();
      }
      optimizer.dispose();
      return { out: out as Float32Array[], dispatches };
    } finally {
      backend.deferral = true;
    }
  };
  const deferred = await run(true), opByOp = await run(false);
  assertAgree("Adam", deferred.out, opByOp.out);
  // Each update is recorded when stepped and runs in a batch with the next ones (16 bindings on lavapipe: two
  // updates of four inputs and three outputs each per dispatch; with WebGPU's default 8, one each).
  const perDispatch = Math.floor((gpu!.limits.maxStorageBuffersPerShaderStage ?? 8) / 7);
  if (perDispatch >= 2 && !(deferred.dispatches < shapes.length)) throw new Error(`Adam over ${shapes.length} parameters took ${deferred.dispatches} dispatches`);
});

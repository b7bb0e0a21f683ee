// The CPU backend's WebAssembly paths against its plain TypeScript paths, on random shapes large enough to
// take the fast path (storages of ≥ 64 elements live in kernel memory) and odd enough to exercise the
// edges: broadcasting on any dimension, transposed operands, scalar tails, image blocks of a batched
// convolution, several threads. The reference for a float32 result is the same operation on float64 inputs
// holding the same values (always the TypeScript loops), rounded to float32.
//
// Shared by the vitest suite (Node: plain SIMD, or relaxed with the flag) and the Deno run (relaxed SIMD):
// each case is a name and a function that throws on a mismatch.
import fc from "fast-check";
import {
  add,
  conv2d,
  conv2dBackwardInput,
  conv2dBackwardWeight,
  cpuBackend,
  div,
  eq,
  ge,
  Generator,
  gt,
  le,
  lt,
  maxPool2d,
  maxPool2dBackward,
  mul,
  type NDArray,
  ne,
  randint,
  sub,
  sum,
  tidy,
  uniform,
} from "../src/mod.ts";

export interface KernelCase {
  name: string;
  run: () => void;
}

/** Random float32 values in [−2, 2), or (coarse) multiples of ½ in [−2, 2], so comparisons and maxima tie often. */
function values(shape: readonly number[], seed: number, coarse = false): NDArray {
  const g = new Generator(seed);
  if (!coarse) return uniform(shape, -2, 2, { generator: g });
  return tidy(() => randint(0, 9, shape, { generator: g }).cast("float32").div(2).sub(2));
}

function f64(x: NDArray): NDArray {
  return x.cast("float64");
}

/** |got − want| ≤ atol + rtol·scale elementwise (scale per element, or one number); exact when both are 0. */
function expectClose(label: string, got: NDArray, want: NDArray, rtol = 0, atol = 0, scale?: Float64Array): void {
  if (got.shape.join() !== want.shape.join()) throw new Error(`${label}: shape [${got.shape}] vs [${want.shape}]`);
  const g = got.dataSync(), w = want.dataSync();
  for (let i = 0; i < g.length; i++) {
    const a = Number(g[i]), b = Math.fround(Number(w[i]));
    if (Object.is(a, b) || (a !== a && b !== b)) continue;
    const allowed = atol + rtol * (scale ? scale[i]! : Math.abs(b));
    if (!(Math.abs(a - b) <= allowed)) {
      throw new Error(`${label}: element ${i} is ${a}, expected ${b} (allowed ±${allowed}), shape [${got.shape}]`);
    }
  }
}

const dims = (maxRank: number, max: number) => fc.array(fc.integer({ min: 1, max }), { minLength: 1, maxLength: maxRank });

/** A shape and, per operand, which dimensions are broadcast (size 1), plus a seed. */
const broadcastArb = fc.record({
  shape: dims(4, 13),
  maskA: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
  maskB: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
  transposeA: fc.boolean(),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
}).filter((r) => r.shape.reduce((a, b) => a * b, 1) >= 64);

function broadcastShape(shape: readonly number[], mask: readonly boolean[]): number[] {
  return shape.map((d, i) => (mask[i] ? 1 : d));
}

export function cpuKernelCases(numRuns = 40): KernelCase[] {
  const prop = <T>(name: string, arb: fc.Arbitrary<T>, check: (v: T) => void, runs = numRuns): KernelCase => ({
    name,
    run: () => fc.assert(fc.property(arb, (v) => tidy(() => check(v))), { numRuns: runs }),
  });
  const arith = [["add", add], ["sub", sub], ["mul", mul], ["div", div]] as const;
  const compare = [["eq", eq], ["ne", ne], ["lt", lt], ["gt", gt], ["le", le], ["ge", ge]] as const;
  return [
    prop("binary float32 ops with broadcasting match float64 rounded (exactly)", broadcastArb, (r) => {
      let a = values(broadcastShape(r.shape, r.maskA), r.seed);
      const b = values(broadcastShape(r.shape, r.maskB), r.seed + 1);
      // A transposed view takes the strided fallback; a plain one the kernel.
      if (r.transposeA && a.ndim >= 2) a = a.transpose(0, a.ndim - 1).contiguous().transpose(0, a.ndim - 1);
      for (const [name, op] of arith) expectClose(name, op(a, b), op(f64(a), f64(b)));
      for (const [name, op] of compare) expectClose(name, op(a, b), op(f64(a), f64(b)));
      expectClose("mul by a number", mul(a, 0.37), mul(f64(a), Math.fround(0.37)));
      expectClose("gt a number", gt(a, 0.5), gt(f64(a), 0.5));
    }),
    prop("unary float32 ops match float64 rounded", fc.record({ shape: dims(3, 40), seed: fc.nat() }), (r) => {
      const x = values(r.shape, r.seed + 7);
      const pos = x.abs().add(0.25);
      expectClose("neg", x.neg(), f64(x).neg());
      expectClose("abs", x.abs(), f64(x).abs());
      expectClose("square", x.square(), f64(x).square());
      expectClose("relu", x.relu(), f64(x).relu());
      expectClose("sqrt", pos.sqrt(), f64(pos).sqrt());
      // Rounded in float32 directly: within one unit in the last place of the double-then-round result.
      expectClose("rsqrt", pos.rsqrt(), f64(pos).rsqrt(), 2 ** -23);
      expectClose("reciprocal", pos.reciprocal(), f64(pos).reciprocal(), 2 ** -23);
    }),
    prop("copies: permuted and broadcast views, bool to float32", fc.record({ shape: dims(4, 9), seed: fc.nat(), perm: fc.nat() }), (r) => {
      const x = values(r.shape, r.seed);
      const order = x.shape.map((_, i) => i);
      for (let i = order.length - 1; i > 0; i--) {
        const j = (r.perm + i * 7) % (i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      expectClose("permute().contiguous()", x.permute(order).contiguous(), f64(x).permute(order).contiguous());
      const b = values([1, ...r.shape], r.seed + 3).expand([3, ...r.shape]);
      expectClose("expand().contiguous()", b.contiguous(), f64(b).contiguous());
      const mask = x.gt(0);
      expectClose("bool cast", mask.cast("float32"), mask.cast("float64"));
      expectClose("bool cast of a transposed view", mask.transpose(0, -1).cast("float32"), mask.transpose(0, -1).cast("float64"));
    }),
    prop("sums over any axes", fc.record({ shape: dims(4, 12), seed: fc.nat(), axes: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }) }), (r) => {
      const x = values(r.shape, r.seed);
      const axes = x.shape.map((_, i) => i).filter((i) => r.axes[i]);
      const n = axes.reduce((a, i) => a * x.shape[i]!, 1) || 1;
      // Float32 lanes add at most 64 terms before a double accumulation takes over.
      expectClose(`sum over [${axes}]`, sum(x, axes), sum(f64(x), axes), 0, 1e-6 * n);
    }),
    prop(
      "conv2d forward and both backward passes, any geometry",
      fc.record({
        n: fc.integer({ min: 1, max: 5 }),
        groups: fc.integer({ min: 1, max: 2 }),
        cPer: fc.integer({ min: 1, max: 5 }),
        oPer: fc.integer({ min: 1, max: 9 }),
        h: fc.integer({ min: 1, max: 13 }),
        w: fc.integer({ min: 1, max: 11 }),
        k: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
        stride: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 3 })),
        pad: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
        dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
        seed: fc.nat(),
      }).filter((g) => g.h + 2 * g.pad[0] >= g.dilation[0] * (g.k[0] - 1) + 1 && g.w + 2 * g.pad[1] >= g.dilation[1] * (g.k[1] - 1) + 1),
      (g) => {
        const c = g.cPer * g.groups, o = g.oPer * g.groups;
        const x = values([g.n, c, g.h, g.w], g.seed);
        const w = values([o, g.cPer, g.k[0], g.k[1]], g.seed + 1);
        const opts = { stride: g.stride, padding: g.pad, dilation: g.dilation, groups: g.groups };
        const out = conv2d(x, w, null, opts);
        checkConv(out, conv2d(f64(x), f64(w), null, opts), g.cPer * g.k[0] * g.k[1]);
        const dy = values(out.shape, g.seed + 2);
        checkConv(conv2dBackwardInput(dy, w, x.shape, opts), conv2dBackwardInput(f64(dy), f64(w), x.shape, opts), g.oPer * g.k[0] * g.k[1]);
        const L = out.shape[2]! * out.shape[3]!;
        checkConv(conv2dBackwardWeight(x, dy, w.shape, opts), conv2dBackwardWeight(f64(x), f64(dy), w.shape, opts), g.n * L);
      },
    ),
    {
      // 128 input channels of 32×32 make the col matrix of one image 1.2 M floats: ten images take two
      // blocks, and the weight gradient sums over them.
      name: "conv2d over several image blocks",
      run: () =>
        tidy(() => {
          const x = values([10, 128, 32, 32], 5), w = values([6, 128, 3, 3], 6);
          const out = conv2d(x, w, null, { padding: 1 });
          checkConv(out, conv2d(f64(x), f64(w), null, { padding: 1 }), 1152);
          const dy = values(out.shape, 7);
          checkConv(conv2dBackwardWeight(x, dy, w.shape, { padding: 1 }), conv2dBackwardWeight(f64(x), f64(dy), w.shape, { padding: 1 }), 10 * 1024);
          checkConv(conv2dBackwardInput(dy, w, x.shape, { padding: 1 }), conv2dBackwardInput(f64(dy), f64(w), x.shape, { padding: 1 }), 54);
        }),
    },
    prop(
      "maxPool2d values, indices (first on ties) and backward",
      fc.record({
        n: fc.integer({ min: 1, max: 3 }),
        c: fc.integer({ min: 1, max: 20 }),
        h: fc.integer({ min: 2, max: 17 }),
        w: fc.integer({ min: 2, max: 17 }),
        k: fc.integer({ min: 1, max: 3 }),
        stride: fc.integer({ min: 1, max: 3 }),
        padded: fc.boolean(),
        dilation: fc.integer({ min: 1, max: 2 }),
        seed: fc.nat(),
      }).filter((g) => g.h >= g.dilation * (g.k - 1) + 1 && g.w >= g.dilation * (g.k - 1) + 1),
      (g) => {
        const x = values([g.n, g.c, g.h, g.w], g.seed, true);
        const opts = { stride: g.stride, padding: g.padded ? Math.floor(g.k / 2) : 0, dilation: g.dilation };
        const got = maxPool2d(x, g.k, opts), want = maxPool2d(f64(x), g.k, opts);
        expectClose("maxPool2d values", got.values, want.values);
        expectClose("maxPool2d indices", got.indices, want.indices);
        const dy = values(got.values.shape, g.seed + 1);
        expectClose(
          "maxPool2dBackward",
          maxPool2dBackward(dy, got.indices, x.shape, g.k, opts),
          maxPool2dBackward(f64(dy), want.indices, x.shape, g.k, opts),
          1e-6,
          1e-6,
        );
      },
    ),
    {
      name: "large operations split over the worker pool give the single-threaded result",
      run: () =>
        tidy(() => {
          const x = values([64, 48, 9, 11], 11), y = values([1, 48, 1, 1], 12);
          expectClose("add", add(x, y), add(f64(x), f64(y)));
          expectClose("mul", mul(x, 3), mul(f64(x), 3));
          expectClose("gt", gt(x, y), gt(f64(x), f64(y)));
          expectClose("relu", x.relu(), f64(x).relu());
          expectClose("permute copy", x.permute([1, 0, 2, 3]).contiguous(), f64(x).permute([1, 0, 2, 3]).contiguous());
          expectClose("sum", sum(x, [0, 2, 3]), sum(f64(x), [0, 2, 3]), 0, 1e-6 * 64 * 99);
          const p = maxPool2d(x, 3, { stride: 2, padding: 1 }), q = maxPool2d(f64(x), 3, { stride: 2, padding: 1 });
          expectClose("maxPool2d", p.values, q.values);
          expectClose("maxPool2d indices", p.indices, q.indices);
        }),
    },
    {
      // Reductions read views in place: dense rows at an offset (the SIMD row sum), a batch-norm layout (the
      // strided sum), columns and broadcasts (the loop in memory order), each against float64.
      name: "sums of sliced, permuted, transposed and broadcast views without copies",
      run: () =>
        tidy(() => {
          const z = values([6, 40, 5, 7], 25);
          expectClose("batch-norm sum", sum(z, [0, 2, 3]), sum(f64(z), [0, 2, 3]), 0, 1e-6 * 210);
          const rows = z.slice(0, 1, 6);
          expectClose("rows at an offset", sum(rows, [1, 2, 3]), sum(f64(rows), [1, 2, 3]), 0, 1e-6 * 1400);
          const m = values([300, 70], 26);
          expectClose("column sums", sum(m, 0), sum(f64(m), 0), 0, 1e-6 * 300);
          expectClose("sums of a transpose", sum(m.transpose(0, 1), 0), sum(f64(m).transpose(0, 1), 0), 0, 1e-6 * 70);
          const b = values([1, 70], 27).expand([300, 70]);
          expectClose("sums of a broadcast", sum(b, [0, 1]), sum(f64(b), [0, 1]), 0, 1e-6 * 21000);
          const p = z.permute([3, 1, 0, 2]).slice(1, 0, 40, 3);
          expectClose("max of a permuted slice", p.max([1, 3]), f64(p).max([1, 3]));
          expectClose("argmax of a permuted slice", p.argmax(2), f64(p).argmax(2));
        }),
    },
    {
      name: "storages are recycled: a repeated step allocates no new kernel memory",
      run: () => {
        const step = () =>
          tidy(() => {
            const x = values([8, 16, 12, 12], 3);
            x.mul(2).add(1).relu().sum([0, 2, 3]).dataSync();
          });
        step();
        const before = cpuBackend.memory();
        for (let i = 0; i < 5; i++) step();
        const after = cpuBackend.memory();
        if (after.storages !== before.storages || after.bytes !== before.bytes) {
          throw new Error(`memory() went from ${JSON.stringify(before)} to ${JSON.stringify(after)}`);
        }
      },
    },
  ];
}

/** A float32 convolution result against float64, allowing float32 rounding of sums of `terms` products. */
function checkConv(got: NDArray, want: NDArray, terms: number): void {
  // Inputs are below 2 in magnitude: each product below 4, so a sum's rounding error is below
  // terms · 4 · 2⁻²³ in the worst case (the kernels' blocked sums do far better).
  expectClose("conv", got, want, 0, terms * 4 * 2 ** -23 + 1e-6);
}

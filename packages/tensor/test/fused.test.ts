import { describe, expect, test, vi } from "vitest";
import fc from "fast-check";
import { cpuBackend, DTypeError, E, evaluate, type Expr, fused, NDArray, opByOp, tensor, UNARY_OP_NAMES, unaryDef, unaryOp, binaryDef, binaryOp } from "../src/mod.ts";
import { fusedKernel } from "../src/cpu/fused_wasm.ts";

const x0 = E.input(0), x1 = E.input(1), x2 = E.input(2);

/** Random expressions over three inputs and two parameters, from the primitives every path rounds alike (IEEE float32). */
const exprArb: fc.Arbitrary<Expr> = fc.letrec<{ e: Expr }>((tie) => ({
  e: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom(x0, x1, x2, E.param(0), E.param(1)),
    fc.double({ min: -4, max: 4, noNaN: true }).map((v) => E.constant(v)),
    fc.tuple(fc.constantFrom("neg", "abs", "sqrt", "floor", "ceil", "round", "isnan", "nonzero"), tie("e"))
      .map(([op, x]) => E[op as "neg"](x)),
    fc.tuple(fc.constantFrom("add", "sub", "mul", "div", "max", "min", "eq", "ne", "lt", "le", "gt", "ge", "and", "or"), tie("e"), tie("e"))
      .map(([op, a, b]) => E[op as "add"](a, b)),
    fc.tuple(tie("e"), tie("e"), tie("e")).map(([c, a, b]) => E.select(c, a, b)),
  ),
})).e;

/** Shapes [2, 3, 5]-broadcastable: each input drops or keeps each dimension. */
const shapeArb = fc.constantFrom<number[]>([2, 3, 70], [3, 70], [70], [1], [2, 1, 70], [2, 3, 1], []);
const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1e-40];

function values(shape: number[], seed: number): number[] {
  const n = shape.reduce((a, b) => a * b, 1);
  let s = seed;
  return Array.from({ length: n }, (_, i) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return i % 17 === 3 ? SPECIAL[s % SPECIAL.length]! : (s / 2147483648) * 8 - 4;
  });
}

/**
 * Equal values, NaN matching NaN. +0 and −0 count as equal: maximum/minimum of ±0 may pick either zero (as in
 * PyTorch, see SIGNED_ZERO_BINARY), and the op-by-op kernels themselves differ there by layout.
 */
function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
  return true;
}

/** `fused` over `inputs` (parameters 0.75, −2.5) equals the op-by-op chain bit for bit, output by output. */
function expectFusedBitsEqualOpByOp(outs: Expr[], inputs: NDArray[], shape: number[]): void {
  const got = fused(outs, inputs, [0.75, -2.5]);
  outs.forEach((e, j) => {
    const want = opByOp(e, inputs, [0.75, -2.5], shape);
    expect(got[j]!.shape).toEqual(shape);
    expect(sameBits(got[j]!.dataSync(), want.dataSync())).toBe(true);
  });
}

describe("fused elementwise kernel (CPU)", () => {
  test("random expression graphs: the WebAssembly kernel equals the op-by-op chain bit for bit (float32)", () => {
    fc.assert(
      fc.property(fc.array(exprArb, { minLength: 1, maxLength: 3 }), fc.tuple(shapeArb, shapeArb, shapeArb), fc.integer({ min: 1, max: 1e6 }), (outs, shapes, seed) => {
        const inputs = shapes.map((s, i) => tensor(values(s, seed + i), { dtype: "float32" }).reshape(s));
        const params = [0.75, -2.5];
        const shape = [2, 3, 70];
        expect(fusedKernel(outs, [false, false, false], 2)).not.toBeNull();
        const got = fused(outs, [...inputs, tensor(values(shape, seed + 9), { dtype: "float32" }).reshape(shape)].slice(0, 3), params);
        outs.forEach((e, j) => {
          const want = opByOp(e, inputs, params, got[j]!.shape);
          expect(got[j]!.shape).toEqual(want.shape);
          expect(sameBits(got[j]!.dataSync(), want.dataSync())).toBe(true);
        });
      }),
      { numRuns: 60 },
    );
  });

  test("many-row broadcast layouts of rank 2–5 (one kernel call walks the rows): equal to the op-by-op chain", () => {
    const layoutArb = fc.integer({ min: 2, max: 5 }).chain((rank) =>
      fc.tuple(
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: rank, maxLength: rank }),
        fc.tuple(...[0, 1, 2].map(() => fc.array(fc.boolean(), { minLength: rank, maxLength: rank }))),
      )
    );
    fc.assert(
      fc.property(fc.array(exprArb, { minLength: 1, maxLength: 3 }), layoutArb, fc.integer({ min: 1, max: 1e6 }), (outs, [dims, keeps], seed) => {
        // At least 64 elements, so the output is in kernel memory and the WebAssembly kernel runs.
        const shape = [Math.max(dims[0]!, Math.ceil(64 / dims.slice(1).reduce((a, b) => a * b, 1))), ...dims.slice(1)];
        const shapes = keeps.map((k, i) => shape.map((d, j) => (i === 0 || k[j] ? d : 1)));
        const inputs = shapes.map((s, i) => tensor(values(s, seed + i), { dtype: "float32" }).reshape(s));
        expectFusedBitsEqualOpByOp(outs, inputs, shape);
      }),
      { numRuns: 100 },
    );
  });

  test("float64 (op by op) agrees with the float64 evaluation of the expression", () => {
    fc.assert(
      fc.property(exprArb, fc.integer({ min: 1, max: 1e6 }), (e, seed) => {
        const shape = [3, 4];
        const data = [0, 1, 2].map((i) => values(shape, seed + i));
        const inputs = data.map((d) => tensor(d, { dtype: "float64" }).reshape(shape));
        const [out] = fused([e], inputs, [0.75, -2.5]);
        const got = out!.dataSync();
        const want = got.map((_, k) => evaluate(e, [data[0]![k]!, data[1]![k]!, data[2]![k]!], [0.75, -2.5]));
        expect(sameBits(got, want)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  test("several outputs, broadcast inputs, parameters and a transposed input", () => {
    const a = tensor([[1, 2, 3], [4, 5, 6]], { dtype: "float32" });
    const b = tensor([10, 20], { dtype: "float32" }).reshape([2, 1]);
    const t = tensor([[1, 2], [3, 4], [5, 6]], { dtype: "float32" }).T;
    const [s, p] = fused([E.add(E.mul(x0, E.param(0)), x1), E.sub(x0, x2)], [a, b, t], [2]);
    expect(Array.from(s!.dataSync())).toEqual([12, 14, 16, 28, 30, 32]);
    expect(Array.from(p!.dataSync())).toEqual([0, -1, -2, 2, 1, 0]);
    // The CPU backend runs arrays of kernel memory's size as one WebAssembly pass rather than declining.
    const program = { outputs: [E.sub(x0, x1)], dtype: "float32" as const, key: "t" };
    const big = tensor(values([2, 300], 5), { dtype: "float32" }).reshape([2, 300]);
    expect(cpuBackend.fused!(program, [big, b.expand([2, 300])], [2, 300], [])).toBeDefined();
  });

  test("every primitive compiles; an input the kernel does not take (strided within rows) falls back to the ops", () => {
    const e = E.mul(E.exp(x0), E.pow(x0, E.sin(E.cos(x0))));
    expect(fusedKernel([e], [false], 0)).not.toBeNull();
    // Rows of a transposed array are strided: the WebAssembly kernel declines and the op-by-op chain runs.
    const a = tensor(values([3, 70], 11), { dtype: "float32" }).reshape([3, 70]).T;
    expect(cpuBackend.fused!({ outputs: [e], dtype: "float32", key: "strided" }, [a], [70, 3], [])).toBeUndefined();
    const [got] = fused([e], [a]);
    expect(sameBits(got!.dataSync(), opByOp(e, [a], [], [70, 3]).dataSync())).toBe(true);
  });

  test("errors name the op, what it expected and what it found", () => {
    const a = tensor([1, 2], { dtype: "float32" });
    expect(() => fused([x0], [tensor([1, 2], { dtype: "int32" })])).toThrow(DTypeError);
    expect(() => fused([E.add(x0, x1)], [a])).toThrow(/fused: the expressions read 2 inputs/);
    expect(() => fused([x0], [a, tensor([1, 2], { dtype: "float64" })])).toThrow(/expected float32, found float64/);
    expect(fused([x0], [a])[0]).toBeInstanceOf(NDArray);
  });
});

describe("float32 unary ops on kernel-memory arrays (the fused WebAssembly path) against the float64 reference", () => {
  // Wide range, both signs, the special values and subnormals: 2,000 elements, so storages live in kernel memory.
  const xs = Array.from({ length: 2000 }, (_, i) => (i % 41 === 7 ? [NaN, Infinity, -Infinity, 0, -0, 1e-40, -1e-40, 1e-30][i % 8]! : ((i * 7919) % 2000) / 10 - 100));
  const x = tensor(xs, { dtype: "float32" });
  const x32 = Array.from(x.dataSync());
  for (const op of UNARY_OP_NAMES.filter((o) => !unaryDef(o).bool)) {
    test(`${op}: within the conformance suite's float32 tolerance (rtol 1e-4, atol 1e-5), special values exact`, () => {
      const got = unaryOp(op, x, 0.7).dataSync();
      x32.forEach((v, i) => {
        const want = Math.fround(unaryDef(op).f64(v, Math.fround(0.7)));
        const g = got[i]!;
        const ok = Number.isNaN(want) ? Number.isNaN(g) : !Number.isFinite(want) ? g === want : Math.abs(g - want) <= 1e-5 + 1e-4 * Math.abs(want);
        if (!ok) throw new Error(`${op}(${v}) = ${g}, float64 reference ${want}`);
        if (want === 0 && unaryDef(op).signedZero && !Object.is(g, want)) throw new Error(`${op}(${v}) = ${g}: sign of zero, want ${want}`);
      });
    });
  }
});

describe("float32 binary ops on kernel-memory arrays against the float64 reference", () => {
  const specials = [NaN, Infinity, -Infinity, 0, -0, 1e-40, 2, -3];
  const as = Array.from({ length: 2000 }, (_, i) => (i % 29 === 3 ? specials[i % 8]! : ((i * 7919) % 2000) / 100 - 10));
  const bs = Array.from({ length: 2000 }, (_, i) => (i % 31 === 5 ? specials[(i >> 1) % 8]! : ((i * 104729) % 2000) / 100 - 10));
  const a = tensor(as, { dtype: "float32" }), b = tensor(bs, { dtype: "float32" });
  const a32 = Array.from(a.dataSync()), b32 = Array.from(b.dataSync());
  for (const op of ["maximum", "minimum", "add", "sub", "mul", "div"] as const) {
    test(`${op}, and against a broadcast row`, () => {
      const row = b.narrow(0, 0, 1);
      for (const [other, bAt] of [[b, (i: number) => b32[i]!], [row, () => b32[0]!]] as const) {
        const got = binaryOp(op, a, other).dataSync();
        a32.forEach((x, i) => {
          const want = Math.fround(binaryDef(op).f64(x, bAt(i)));
          const g = got[i]!;
          if (!(Number.isNaN(want) ? Number.isNaN(g) : g === want)) throw new Error(`${op}(${x}, ${bAt(i)}) = ${g}, reference ${want}`);
        });
      }
    });
  }
});

describe("small fused programs (outputs under kernel memory's minimum size) run as one pass", () => {
  /** A size 1…200 as [rows, cols]; input 0 full, the others full, one value per row, or one value. */
  const smallArb = fc.tuple(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 25 }), fc.array(fc.constantFrom("full", "row", "one"), { minLength: 2, maxLength: 2 }))
    .map(([rows, cols, kinds]) => [rows, cols, ["full", ...kinds]] as const);
  const shapeOf = (kind: string, rows: number, cols: number) => (kind === "full" ? [rows, cols] : kind === "row" ? [rows, 1] : [1]);

  test("float32: the staged WebAssembly pass runs (no fallback) and equals the op-by-op chain bit for bit", () => {
    fc.assert(
      fc.property(fc.array(exprArb, { minLength: 1, maxLength: 3 }), smallArb, fc.integer({ min: 1, max: 1e6 }), (outs, [rows, cols, kinds], seed) => {
        const shape = [rows, cols];
        const inputs = kinds.map((k, i) => tensor(values(shapeOf(k, rows, cols), seed + i), { dtype: "float32" }).reshape(shapeOf(k, rows, cols)));
        const program = { outputs: outs, dtype: "float32" as const, key: `small:${outs.map(String).join()}` };
        const views = inputs.map((x) => x.expand(shape));
        const storages = cpuBackend.fused!(program, views, shape, [0.75, -2.5]);
        expect(storages).toBeDefined();
        for (const s of storages!) new NDArray(s, shape).dispose();
        expectFusedBitsEqualOpByOp(outs, inputs, shape);
      }),
      { numRuns: 100 },
    );
  });

  test("float32 transcendental primitives: within the float32 tolerance of the op-by-op chain (rtol 1e-4, atol 1e-5)", () => {
    const e = E.add(E.mul(E.exp(E.neg(x0)), x1), E.log(E.add(E.abs(x1), 1)));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 1e6 }), (n, seed) => {
        const inputs = [0, 1].map((i) => tensor(values([n], seed + i), { dtype: "float32" }));
        expect(cpuBackend.fused!({ outputs: [e], dtype: "float32", key: "small-exp" }, inputs, [n], [])).toBeDefined();
        const got = fused([e], inputs)[0]!.dataSync(), want = opByOp(e, inputs, [], [n]).dataSync();
        want.forEach((w, i) => {
          const g = got[i]!;
          const ok = Number.isNaN(w) ? Number.isNaN(g) : !Number.isFinite(w) ? g === w : Math.abs(g - w) <= 1e-5 + 1e-4 * Math.abs(w);
          if (!ok) throw new Error(`element ${i} of ${n}: fused ${g}, op by op ${w}`);
        });
      }),
      { numRuns: 50 },
    );
  });

  test("float64 (op by op) equals the float64 evaluation exactly at sizes 1…200", () => {
    fc.assert(
      fc.property(exprArb, fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 1e6 }), (e, n, seed) => {
        const data = [0, 1, 2].map((i) => values([n], seed + i));
        const inputs = data.map((d) => tensor(d, { dtype: "float64" }));
        const got = fused([e], inputs, [0.75, -2.5])[0]!.dataSync();
        const want = got.map((_, k) => evaluate(e, [data[0]![k]!, data[1]![k]!, data[2]![k]!], [0.75, -2.5]));
        expect(sameBits(got, want)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  test("a 0-d program, one element and an empty array run fused", () => {
    const a = tensor(3, { dtype: "float32" }), b = tensor([2], { dtype: "float32" });
    const program = { outputs: [E.mul(x0, E.param(0))], dtype: "float32" as const, key: "scalar" };
    expect(cpuBackend.fused!(program, [a], [], [2])).toBeDefined();
    expect(Array.from(fused([E.mul(x0, E.param(0))], [a], [2])[0]!.dataSync())).toEqual([6]);
    expect(Array.from(fused([E.sub(x0, x1)], [b, a])[0]!.dataSync())).toEqual([-1]);
    const empty = tensor([], { dtype: "float32" }).reshape([0, 3]), row = tensor([1, 2, 3], { dtype: "float32" });
    expect(cpuBackend.fused!({ outputs: [E.add(x0, x1)], dtype: "float32", key: "empty" }, [empty, row.expand([0, 3])], [0, 3], [])).toBeDefined();
    expect(fused([E.add(x0, x1)], [empty, row])[0]!.shape).toEqual([0, 3]);
  });
});

describe("fused programs are shared", () => {
  test("equal expression arrays get one program per dtype, a repeated array the same one, other expressions another", () => {
    const update = () => [E.sub(x0, E.mul(x1, E.param(0))), E.mul(x1, x1)];
    const first = update(), equal = update(), other = [E.add(x0, x1)];
    const float32 = [[1, 2, 3], [0.5, -1, 4]].map((d) => tensor(d, { dtype: "float32" }));
    const float64 = [[1, 2, 3], [0.5, -1, 4]].map((d) => tensor(d, { dtype: "float64" }));
    const backendFused = vi.spyOn(cpuBackend, "fused");
    try {
      const runs = [
        fused(first, float32, [0.25]),
        fused(first, float32, [0.25]),
        fused(equal, float32, [0.25]),
        fused(first, float64, [0.25]),
        fused(equal, float64, [0.25]),
        fused(other, float32),
      ];
      const [f32, again, equal32, f64, equal64, otherProgram] = backendFused.mock.calls.map(([program]) => program);
      expect(backendFused).toHaveBeenCalledTimes(6);
      expect(again).toBe(f32);
      expect(equal32).toBe(f32);
      expect(f64).not.toBe(f32);
      expect(f64!.dtype).toBe("float64");
      expect(equal64).toBe(f64);
      expect(otherProgram).not.toBe(f32);
      expect(otherProgram!.key).not.toBe(f32!.key);
      for (const [i, want] of [[0.875, 2.25, 2], [0.25, 1, 16]].entries()) {
        for (const run of runs.slice(0, 5)) expect(Array.from(run[i]!.dataSync())).toEqual(want);
      }
      expect(Array.from(runs[5]![0]!.dataSync())).toEqual([1.5, 1, 7]);
    } finally {
      backendFused.mockRestore();
    }
  });
});

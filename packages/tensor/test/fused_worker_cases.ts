// The fused elementwise kernel split over the worker pool: the same bits as on one thread for random expressions
// at sizes around the parallel threshold (contiguous, broadcast rows and columns, parameters), and a pool started
// after the module was compiled (its workers never saw the module) still runs it.
// Shared by vitest (Node) and the Deno run (fused_workers_deno_test.ts).
import fc from "fast-check";
import { E, type Expr, fused, opByOp, setNumThreads, tensor, tidy } from "../src/mod.ts";
import { FUSED_PARALLEL_MIN_ELEMENTS } from "../src/cpu/wasm/runtime.ts";
import { runningWorkers, stopWorkers, workerPool } from "../src/cpu/wasm/runtime.ts";
import type { KernelCase } from "./cpu_kernel_cases.ts";

const x0 = E.input(0), x1 = E.input(1), x2 = E.input(2);

const exprArb: fc.Arbitrary<Expr> = fc.letrec<{ e: Expr }>((tie) => ({
  e: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom(x0, x1, x2, E.param(0), E.param(1)),
    fc.double({ min: -4, max: 4, noNaN: true }).map((v) => E.constant(v)),
    fc.tuple(fc.constantFrom("neg", "abs", "sqrt", "floor"), tie("e")).map(([op, x]) => E[op as "neg"](x)),
    fc.tuple(fc.constantFrom("add", "sub", "mul", "div", "max", "min", "lt"), tie("e"), tie("e"))
      .map(([op, a, b]) => E[op as "add"](a, b)),
    fc.tuple(tie("e"), tie("e"), tie("e")).map(([c, a, b]) => E.select(c, a, b)),
  ),
})).e;

/** [rows, cols] with rows·cols around the threshold; inputs full, one per row, or one per column. */
const layoutArb = fc.record({
  total: fc.constantFrom(FUSED_PARALLEL_MIN_ELEMENTS - 17, FUSED_PARALLEL_MIN_ELEMENTS, FUSED_PARALLEL_MIN_ELEMENTS + 13, 3 * FUSED_PARALLEL_MIN_ELEMENTS + 5),
  rows: fc.constantFrom(1, 2, 7, 40),
  kinds: fc.tuple(...[0, 1, 2].map(() => fc.constantFrom("full", "row", "col"))),
  seed: fc.integer({ min: 1, max: 1e6 }),
});

/**
 * A broadcast layout of rank 2–5 with many rows and at least FUSED_PARALLEL_MIN_ELEMENTS elements: the output shape, and
 * per input which dimensions it keeps (the others are 1, as batch norm's per-channel [1, C, 1, 1] inputs).
 */
const manyRowLayoutArb = fc.integer({ min: 2, max: 5 }).chain((rank) =>
  fc.record({
    outer: fc.array(fc.integer({ min: 2, max: 7 }), { minLength: rank - 1, maxLength: rank - 1 }),
    inner: fc.constantFrom(1, 3, 17, 64, 100),
    extra: fc.integer({ min: 0, max: 5000 }),
    keeps: fc.tuple(...[0, 1, 2].map(() => fc.array(fc.boolean(), { minLength: rank, maxLength: rank }))),
    seed: fc.integer({ min: 1, max: 1e6 }),
  }).map((l) => {
    const rest = l.outer.slice(1).reduce((a, b) => a * b, l.inner);
    const first = Math.ceil(FUSED_PARALLEL_MIN_ELEMENTS / rest) + l.extra;
    const shape = [first, ...l.outer.slice(1), l.inner];
    // The first input is full-size, so the output has every dimension whatever the others keep.
    const keeps = l.keeps.map((k, i) => (i === 0 ? k.map(() => true) : k));
    return { shape, inputShapes: keeps.map((k) => shape.map((d, i) => (k[i] ? d : 1))), seed: l.seed };
  })
);

function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = (s / 2147483648) * 8 - 4;
  }
  return out;
}

function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): string | undefined {
  if (a.length !== b.length) return `length ${a.length} vs ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i]) && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return `element ${i}: ${a[i]} vs ${b[i]}`;
  }
  return undefined;
}

/** Equal values, NaN matching NaN and +0 matching −0 (max/min of ±0 may pick either zero, as op by op does by layout). */
function sameValues(a: ArrayLike<number>, b: ArrayLike<number>): string | undefined {
  if (a.length !== b.length) return `length ${a.length} vs ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return `element ${i}: ${a[i]} vs ${b[i]}`;
  }
  return undefined;
}

function runAt(threads: number, outs: Expr[], make: () => ReturnType<typeof tensor>[]): Float32Array[] {
  setNumThreads(threads);
  return tidy(() => fused(outs, make(), [0.75, -2.5]).map((t) => Float32Array.from(t.dataSync() as Float32Array)));
}

export function fusedWorkerCases(): KernelCase[] {
  return [
    {
      name: "fused kernel: two threads give the bits of one thread on random expressions and sizes around the threshold",
      run: () => {
        try {
          fc.assert(
            fc.property(fc.array(exprArb, { minLength: 1, maxLength: 2 }), layoutArb, (outs, l) => {
              const cols = Math.ceil(l.total / l.rows);
              const make = () =>
                l.kinds.map((k, i) => {
                  const shape = k === "full" ? [l.rows, cols] : k === "row" ? [l.rows, 1] : [cols];
                  const n = shape.reduce((a, b) => a * b, 1);
                  return tensor(values(n, l.seed + i), { dtype: "float32" }).reshape(shape);
                });
              const one = runAt(1, outs, make);
              const two = runAt(2, outs, make);
              one.forEach((o, j) => {
                const diff = sameBits(o, two[j]!);
                if (diff) throw new Error(`output ${j} differs at ${diff}`);
              });
            }),
            { numRuns: 25 },
          );
        } finally {
          setNumThreads(1);
        }
      },
    },
    {
      name: "fused kernel: many-row broadcast layouts of rank 2–5: two threads give the bits of one thread and of the op-by-op chain",
      run: () => {
        try {
          fc.assert(
            fc.property(fc.array(exprArb, { minLength: 1, maxLength: 2 }), manyRowLayoutArb, (outs, l) => {
              const make = () =>
                l.inputShapes.map((shape, i) => {
                  const n = shape.reduce((a, b) => a * b, 1);
                  return tensor(values(n, l.seed + i), { dtype: "float32" }).reshape(shape);
                });
              const one = runAt(1, outs, make);
              const two = runAt(2, outs, make);
              const want = tidy(() => outs.map((e) => Float32Array.from(opByOp(e, make(), [0.75, -2.5], l.shape).dataSync() as Float32Array)));
              one.forEach((o, j) => {
                const diff = sameBits(o, two[j]!);
                if (diff) throw new Error(`output ${j}: one thread and two differ at ${diff} (shape ${l.shape})`);
                const off = sameValues(o, want[j]!);
                if (off) throw new Error(`output ${j}: fused and op by op differ at ${off} (shape ${l.shape})`);
              });
            }),
            { numRuns: 12 },
          );
        } finally {
          setNumThreads(1);
        }
      },
    },
    {
      name: "fused kernel: workers started after the module was compiled receive it",
      run: () => {
        try {
          stopWorkers();
          const e = [E.add(E.mul(x0, E.param(0)), E.abs(x1)), E.max(x0, E.param(1))];
          const n = 2 * FUSED_PARALLEL_MIN_ELEMENTS + 3;
          const make = () => [0, 1].map((i) => tensor(values(n, 99 + i), { dtype: "float32" }));
          const one = runAt(1, e, make);
          stopWorkers();
          const two = runAt(2, e, make);
          if (runningWorkers() < 1) throw new Error("expected the worker pool to run");
          one.forEach((o, j) => {
            const diff = sameBits(o, two[j]!);
            if (diff) throw new Error(`output ${j} differs at ${diff}`);
          });
        } finally {
          setNumThreads(1);
        }
      },
    },
    {
      name: "fused kernel: six inputs, three outputs and parameters (Adam's kind, over 16 arguments) split over the pool with the bits of one thread",
      run: () => {
        try {
          const ins = [0, 1, 2, 3, 4, 5].map((i) => E.input(i));
          const e = [E.add(ins[0]!, E.mul(ins[1]!, E.param(0))), E.sub(ins[2]!, ins[3]!), E.max(ins[4]!, E.mul(ins[5]!, E.param(1)))];
          const make = () => [0, 1, 2, 3, 4, 5].map((i) => tensor(values(FUSED_PARALLEL_MIN_ELEMENTS + 7, 7 + i), { dtype: "float32" }));
          const one = runAt(1, e, make);
          setNumThreads(2);
          const pool = workerPool();
          let pooled = false;
          if (pool) {
            const runModule = pool.runModule.bind(pool);
            pool.runModule = (...a) => (pooled ||= runModule(...a));
          }
          let two: Float32Array[];
          try {
            two = runAt(2, e, make);
          } finally {
            if (pool) delete (pool as { runModule?: unknown }).runModule;
          }
          if (pool && !pooled) throw new Error("expected the pool to run the kernel");
          one.forEach((o, j) => {
            const diff = sameBits(o, two[j]!);
            if (diff) throw new Error(`output ${j} differs at ${diff}`);
          });
        } finally {
          setNumThreads(1);
        }
      },
    },
  ];
}

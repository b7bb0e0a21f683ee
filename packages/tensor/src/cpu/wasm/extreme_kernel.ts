// Row maxima and minima of dense float32 rows, the reductions softmax, log-sum-exp and argmax start from.
// A row holding a NaN reduces to NaN, as PyTorch's max/min do. The result is always one of the row's values
// (or NaN), so it equals the TypeScript loop's exactly; only which zero a row of +0 and −0 gives may differ,
// and the reductions do not promise a sign of zero.
//
// The loop uses the pseudo-min/max f32x4.pmin/pmax (one minps/maxps on x86) and keeps NaN aside in a mask
// (x ≠ x per lane, OR-ed): WebAssembly's NaN-propagating f32x4.min/max compile to about seven instructions
// each on x86, which made the loop compute-bound at half the speed.
import { type FunctionBuilder, type ModuleBuilder, ValType } from "./emitter.ts";

const i32 = ValType.i32;
const v128 = ValType.v128;
const f32 = ValType.f32;

type Extreme = "max" | "min";

/**
 * maxRowsF32 / minRowsF32(x, out, rows, n): out[r] = max (min) of x[r·n … r·n + n); −∞ (+∞) for n = 0.
 * Four v128 accumulators take 16 floats per trip (independent chains, so the loop is not bound by the
 * latency of one), then a scalar tail.
 */
function emitExtremeRows(mb: ModuleBuilder, op: Extreme): void {
  const f = mb.func(`${op}RowsF32`, [i32, i32, i32, i32]);
  const [x, out, rows, n] = f.params;
  const [r, p, end, end16] = f.locals(i32, 4);
  const acc = f.locals(v128, 4);
  const [v, nan] = f.locals(v128, 2);
  const best = f.local(f32);
  const identity = op === "max" ? -Infinity : Infinity;
  // pmax(acc, v) = acc < v ? v : acc and pmin(acc, v) = v < acc ? v : acc: a NaN in v leaves acc.
  const pseudo = (g: FunctionBuilder, a: () => void, b: () => void) => (op === "max" ? g.f32x4Pmax(a, b) : g.f32x4Pmin(a, b));
  // The NaN-propagating forms, for the few combining steps.
  const vec = (g: FunctionBuilder, a: () => void, b: () => void) => (op === "max" ? g.f32x4Max(a, b) : g.f32x4Min(a, b));
  const scalar = (g: FunctionBuilder, a: () => void, b: () => void) => (op === "max" ? g.f32Max(a, b) : g.f32Min(a, b));
  f.forRange(r, 0, rows, 1, () => {
    f.set(p, () => f.i32Add(x, () => f.i32Mul(r, () => f.i32Shl(n, 2))));
    f.set(end, () => f.i32Add(p, () => f.i32Shl(n, 2)));
    f.set(end16, () => f.i32Add(p, () => f.i32Shl(() => f.i32And(n, ~15), 2)));
    for (const a of acc) f.set(a, () => f.f32x4Splat(() => f.f32Const(identity)));
    f.set(nan, () => f.v128Zero());
    f.block((done) => {
      f.loop((top) => {
        f.brIf(done, () => f.i32GeU(p, end16));
        for (let i = 0; i < 4; i++) {
          f.set(v, () => f.v128Load(i * 16, p));
          f.set(acc[i]!, () => pseudo(f, () => f.get(acc[i]!), () => f.get(v)));
          f.set(nan, () => f.v128Or(nan, () => f.f32x4Compare("ne", v, v)));
        }
        f.inc(p, 64);
        f.br(top);
      });
    });
    // All-ones lanes are NaN: OR-ing the mask in turns the lanes that saw one into NaN before they combine.
    f.set(acc[0]!, () => vec(f, () => vec(f, () => f.get(acc[0]!), () => f.get(acc[1]!)), () => vec(f, () => f.get(acc[2]!), () => f.get(acc[3]!))));
    f.set(acc[0]!, () => f.v128Or(acc[0], nan));
    f.set(best, () => f.f32x4ExtractLane(0, acc[0]));
    for (let lane = 1; lane < 4; lane++) f.set(best, () => scalar(f, () => f.get(best), () => f.f32x4ExtractLane(lane, acc[0])));
    f.block((exit) => {
      f.loop((top) => {
        f.brIf(exit, () => f.i32GeU(p, end));
        f.set(best, () => scalar(f, () => f.get(best), () => f.f32Load(0, p)));
        f.inc(p, 4);
        f.br(top);
      });
    });
    f.f32Store(0, () => f.i32Add(out, () => f.i32Shl(r, 2)), best);
  });
}

/**
 * firstIndexRowsF32(x, targets, out, rows, n): out[r] (int32) = the first i < n with x[r·n + i] equal to
 * targets[r] (−0 and +0 equal), or, where targets[r] is NaN, the first NaN; n where there is none. argmax and
 * argmin pass the row extremes from maxRowsF32/minRowsF32. 16 floats per trip, tested as one mask; the
 * trip that matches and the tail are searched element by element.
 */
function emitFirstIndexRows(mb: ModuleBuilder): void {
  const f = mb.func("firstIndexRowsF32", [i32, i32, i32, i32, i32]);
  const [x, targets, out, rows, n] = f.params;
  const [r, row, p, end, end16, wantNan] = f.locals(i32, 6);
  const [target, nanLanes, hits, v] = f.locals(v128, 4);
  const [t, e] = f.locals(f32, 2);
  f.forRange(r, 0, rows, 1, () => {
    f.set(row, () => f.i32Add(x, () => f.i32Mul(r, () => f.i32Shl(n, 2))));
    f.set(p, row);
    f.set(end, () => f.i32Add(p, () => f.i32Shl(n, 2)));
    f.set(end16, () => f.i32Add(p, () => f.i32Shl(() => f.i32And(n, ~15), 2)));
    f.set(t, () => f.f32Load(0, () => f.i32Add(targets, () => f.i32Shl(r, 2))));
    f.set(wantNan, () => f.f32Ne(t, t));
    f.set(target, () => f.f32x4Splat(t));
    // All-ones lanes when looking for NaN: (x ≠ x) AND this marks them.
    f.set(nanLanes, () => f.i32x4Splat(() => f.i32Sub(0, wantNan)));
    f.block((found) => {
      f.loop((top) => {
        f.brIf(found, () => f.i32GeU(p, end16));
        f.set(hits, () => f.v128Zero());
        for (let i = 0; i < 4; i++) {
          f.set(v, () => f.v128Load(i * 16, p));
          f.set(hits, () => f.v128Or(hits, () => f.v128Or(() => f.f32x4Compare("eq", v, target), () => f.v128And(() => f.f32x4Compare("ne", v, v), nanLanes))));
        }
        f.brIf(found, () => f.v128AnyTrue(hits));
        f.inc(p, 64);
        f.br(top);
      });
    });
    f.block((exit) => {
      f.loop((top) => {
        f.brIf(exit, () => f.i32GeU(p, end));
        f.set(e, () => f.f32Load(0, p));
        f.brIf(exit, () => f.i32Or(() => f.f32Eq(e, t), () => f.i32And(wantNan, () => f.f32Ne(e, e))));
        f.inc(p, 4);
        f.br(top);
      });
    });
    f.i32Store(0, () => f.i32Add(out, () => f.i32Shl(r, 2)), () => f.i32ShrU(() => f.i32Sub(p, row), 2));
  });
}

export function emitExtremeRowKernels(mb: ModuleBuilder): void {
  emitExtremeRows(mb, "max");
  emitExtremeRows(mb, "min");
  emitFirstIndexRows(mb);
}

export interface ExtremeRowExports {
  maxRowsF32(x: number, out: number, rows: number, n: number): void;
  minRowsF32(x: number, out: number, rows: number, n: number): void;
  firstIndexRowsF32(x: number, targets: number, out: number, rows: number, n: number): void;
}

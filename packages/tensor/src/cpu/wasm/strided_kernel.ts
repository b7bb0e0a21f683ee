// Generates the float32 elementwise kernels the CPU backend runs on its storages: binary and unary
// arithmetic over a 2-D strided window, a row sum, and the block transpose a batched convolution uses to
// move between [C, N, L] and [N, C, L]. The backend collapses an operation's shape to as few dimensions as
// the operands allow ([N, C, H·W] for a batch-norm broadcast, one long row for dense operands) and loops
// over what is left beyond two dimensions itself.
//
// Each operand's rows may start anywhere (a byte stride per row), and within a row it is either
// contiguous or one broadcast value (a flag per operand): the layouts broadcasting produces. Rows of the
// output are contiguous. 16 floats per loop trip as four v128, then a scalar tail.
import {
  type FunctionBuilder,
  type Local,
  type ModuleBuilder,
  ValType,
} from "./emitter.ts";

const i32 = ValType.i32;
const v128 = ValType.v128;
const f32 = ValType.f32;

/** Emits a vector op of two pushed v128 operands, or a scalar op of two f32 operands. */
type Op2 = (f: FunctionBuilder, x: () => void, y: () => void) => void;
type Op1 = (f: FunctionBuilder, x: () => void) => void;

interface BinaryDef {
  name: string;
  vector: Op2;
  scalar: Op2;
}
interface UnaryDef {
  name: string;
  vector: Op1;
  scalar: Op1;
}

/**
 * The binary ops. Each f32 result of add, sub, mul and div is correctly rounded, which is what computing in
 * double and rounding once gives too (double has more than 2·24 + 2 bits), so these match the TypeScript
 * loops bit for bit.
 */
export const BINARY_F32: readonly BinaryDef[] = [
  { name: "add", vector: (f, x, y) => f.f32x4Add(x, y), scalar: (f, x, y) => f.f32Add(x, y) },
  { name: "sub", vector: (f, x, y) => f.f32x4Sub(x, y), scalar: (f, x, y) => f.f32Sub(x, y) },
  { name: "mul", vector: (f, x, y) => f.f32x4Mul(x, y), scalar: (f, x, y) => f.f32Mul(x, y) },
  { name: "div", vector: (f, x, y) => f.f32x4Div(x, y), scalar: (f, x, y) => f.f32Div(x, y) },
];

/**
 * The unary ops. sqrt is correctly rounded in both precisions, so it matches too; rsqrt and reciprocal
 * round in float32 directly and may differ from the double-then-round loop in the last bit. relu uses
 * f32x4.max, which propagates NaN (relu(NaN) = NaN, as PyTorch) and maps −0 to +0 like the loop.
 */
export const UNARY_F32: readonly UnaryDef[] = [
  { name: "copy", vector: (_f, x) => x(), scalar: (_f, x) => x() },
  { name: "neg", vector: (f, x) => f.f32x4Neg(x), scalar: (f, x) => f.f32Neg(x) },
  { name: "abs", vector: (f, x) => f.f32x4Abs(x), scalar: (f, x) => f.f32Abs(x) },
  { name: "square", vector: (f, x) => withTemp(f, v128, x, (t) => f.f32x4Mul(t, t)), scalar: (f, x) => withTemp(f, f32, x, (t) => f.f32Mul(t, t)) },
  { name: "sqrt", vector: (f, x) => f.f32x4Sqrt(x), scalar: (f, x) => f.f32Sqrt(x) },
  { name: "rsqrt", vector: (f, x) => f.f32x4Div(() => splatOne(f), () => f.f32x4Sqrt(x)), scalar: (f, x) => f.f32Div(() => f.f32Const(1), () => f.f32Sqrt(x)) },
  { name: "reciprocal", vector: (f, x) => f.f32x4Div(() => splatOne(f), x), scalar: (f, x) => f.f32Div(() => f.f32Const(1), x) },
  { name: "relu", vector: (f, x) => f.f32x4Max(x, () => f.v128Zero()), scalar: (f, x) => f.f32Max(x, () => f.f32Const(0)) },
];

function splatOne(f: FunctionBuilder): void {
  f.f32x4Splat(() => f.f32Const(1));
}

/** Evaluates x once into a fresh local of `type`, then emits use(local). */
function withTemp(f: FunctionBuilder, type: ValType, x: () => void, use: (t: Local) => void): void {
  // A local per use site: locals are cheap and the function stays valid whatever nests around it.
  const t = f.local(type);
  f.set(t, x);
  use(t);
}

/** A pointer the loop moves, with the bytes it moves per element (4 for float32, 1 for bool). */
type Moving = Local | readonly [Local, number];

/**
 * Walks `count` elements from the current values of the pointer locals: `vector(trip)` emits one of four
 * 4-element steps per trip (trip = 0…3), `scalar()` one element; every pointer in `advance` moves with the
 * loop. The loop ends on the first pointer in `advance`.
 */
function emitRowLoop(
  f: FunctionBuilder,
  count: Local,
  advance: readonly Moving[],
  vector: (trip: number) => void,
  scalar: () => void,
): void {
  const moving = advance.map((m): readonly [Local, number] => ("index" in m ? [m, 4] : m));
  const [lead, leadScale] = moving[0]!;
  const end16 = f.local(i32);
  const end = f.local(i32);
  const shift = Math.log2(leadScale);
  f.set(end, () => f.i32Add(lead, () => f.i32Shl(count, shift)));
  f.set(end16, () => f.i32Add(lead, () => f.i32Shl(() => f.i32And(count, ~15), shift)));
  f.block((exit) => {
    f.loop((top) => {
      f.brIf(exit, () => f.i32GeU(lead, end16));
      for (let t = 0; t < 4; t++) vector(t);
      for (const [p, scale] of moving) f.inc(p, 16 * scale);
      f.br(top);
    });
  });
  f.block((exit) => {
    f.loop((top) => {
      f.brIf(exit, () => f.i32GeU(lead, end));
      scalar();
      for (const [p, scale] of moving) f.inc(p, scale);
      f.br(top);
    });
  });
}

/**
 * name(a, aRow, aCol, b, bRow, bCol, out, outRow, rows, cols): for each of `rows` rows, out[j] = a[j] ⊕ b[j]
 * for j < cols. Row strides are in bytes; aCol / bCol are 1 when the operand is contiguous along the row and
 * 0 when it holds one value for the whole row (broadcast). At most one of them may be 0.
 */
function emitBinary2d(mb: ModuleBuilder, def: BinaryDef): void {
  const f = mb.func(`${def.name}F32Strided`, Array(10).fill(i32));
  const [a, aRow, aCol, b, bRow, bCol, out, outRow, rows, cols] = f.params;
  const [r, pa, pb, po] = f.locals(i32, 4);
  const vs = f.local(v128);
  const ss = f.local(f32);
  f.forRange(r, 0, rows, 1, () => {
    f.set(pa, () => f.i32Add(a, () => f.i32Mul(r, aRow)));
    f.set(pb, () => f.i32Add(b, () => f.i32Mul(r, bRow)));
    f.set(po, () => f.i32Add(out, () => f.i32Mul(r, outRow)));
    f.if(() => f.i32And(aCol, bCol), () => {
      emitRowLoop(f, cols, [po, pa, pb], (t) => {
        const o = t * 16;
        f.v128Store(o, po, () => def.vector(f, () => f.v128Load(o, pa), () => f.v128Load(o, pb)));
      }, () => {
        f.f32Store(0, po, () => def.scalar(f, () => f.f32Load(0, pa), () => f.f32Load(0, pb)));
      });
    }, () => {
      f.if(aCol, () => {
        // b is one value for the row.
        f.set(ss, () => f.f32Load(0, pb));
        f.set(vs, () => f.f32x4Splat(ss));
        emitRowLoop(f, cols, [po, pa], (t) => {
          const o = t * 16;
          f.v128Store(o, po, () => def.vector(f, () => f.v128Load(o, pa), () => f.get(vs)));
        }, () => {
          f.f32Store(0, po, () => def.scalar(f, () => f.f32Load(0, pa), () => f.get(ss)));
        });
      }, () => {
        // a is one value for the row.
        f.set(ss, () => f.f32Load(0, pa));
        f.set(vs, () => f.f32x4Splat(ss));
        emitRowLoop(f, cols, [po, pb], (t) => {
          const o = t * 16;
          f.v128Store(o, po, () => def.vector(f, () => f.get(vs), () => f.v128Load(o, pb)));
        }, () => {
          f.f32Store(0, po, () => def.scalar(f, () => f.get(ss), () => f.f32Load(0, pb)));
        });
      });
    });
  });
}

/** name(x, xRow, xCol, out, outRow, rows, cols): out[j] = op(x[j]); xCol 0 means one value per row. */
function emitUnary2d(mb: ModuleBuilder, def: UnaryDef): void {
  const f = mb.func(`${def.name}F32Strided`, Array(7).fill(i32));
  const [x, xRow, xCol, out, outRow, rows, cols] = f.params;
  const [r, px, po] = f.locals(i32, 3);
  const vs = f.local(v128);
  const ss = f.local(f32);
  f.forRange(r, 0, rows, 1, () => {
    f.set(px, () => f.i32Add(x, () => f.i32Mul(r, xRow)));
    f.set(po, () => f.i32Add(out, () => f.i32Mul(r, outRow)));
    f.if(xCol, () => {
      emitRowLoop(f, cols, [po, px], (t) => {
        const o = t * 16;
        f.v128Store(o, po, () => def.vector(f, () => f.v128Load(o, px)));
      }, () => {
        f.f32Store(0, po, () => def.scalar(f, () => f.f32Load(0, px)));
      });
    }, () => {
      f.set(ss, () => def.scalar(f, () => f.f32Load(0, px)));
      f.set(vs, () => f.f32x4Splat(ss));
      emitRowLoop(f, cols, [po], (t) => f.v128Store(t * 16, po, vs), () => f.f32Store(0, po, ss));
    });
  });
}

/** Comparisons with a bool (one byte, 0 or 1) result. NaN compares false except under `ne`, as in JavaScript. */
export const COMPARE_F32 = ["eq", "ne", "lt", "gt", "le", "ge"] as const;
type CompareOp = (typeof COMPARE_F32)[number];

/**
 * <op>F32Strided(a, aRow, aCol, b, bRow, bCol, out, outRow, rows, cols) for a comparison: like the binary
 * kernels, with one byte per result. Sixteen lane masks are narrowed to sixteen bytes and masked to 0/1.
 */
function emitCompare2d(mb: ModuleBuilder, op: CompareOp): void {
  const f = mb.func(`${op}F32Strided`, Array(10).fill(i32));
  const [a, aRow, aCol, b, bRow, bCol, out, outRow, rows, cols] = f.params;
  const [r, pa, pb, po] = f.locals(i32, 4);
  const vs = f.local(v128);
  const ss = f.local(f32);
  const masks = f.locals(v128, 4);
  const vector = (x: (o: number) => void, y: (o: number) => void) => (t: number) => {
    if (t !== 0) return;
    for (let i = 0; i < 4; i++) f.set(masks[i]!, () => f.f32x4Compare(op, () => x(i * 16), () => y(i * 16)));
    f.v128Store(0, po, () =>
      f.v128And(
        () => f.i8x16NarrowI16x8S(() => f.i16x8NarrowI32x4S(masks[0], masks[1]), () => f.i16x8NarrowI32x4S(masks[2], masks[3])),
        () => f.i8x16Splat(1),
      ));
  };
  f.forRange(r, 0, rows, 1, () => {
    f.set(pa, () => f.i32Add(a, () => f.i32Mul(r, aRow)));
    f.set(pb, () => f.i32Add(b, () => f.i32Mul(r, bRow)));
    f.set(po, () => f.i32Add(out, () => f.i32Mul(r, outRow)));
    f.if(() => f.i32And(aCol, bCol), () => {
      emitRowLoop(f, cols, [[po, 1], pa, pb], vector((o) => f.v128Load(o, pa), (o) => f.v128Load(o, pb)), () => {
        f.i32Store8(0, po, () => f.f32Compare(op, () => f.f32Load(0, pa), () => f.f32Load(0, pb)));
      });
    }, () => {
      f.if(aCol, () => {
        f.set(ss, () => f.f32Load(0, pb));
        f.set(vs, () => f.f32x4Splat(ss));
        emitRowLoop(f, cols, [[po, 1], pa], vector((o) => f.v128Load(o, pa), () => f.get(vs)), () => {
          f.i32Store8(0, po, () => f.f32Compare(op, () => f.f32Load(0, pa), ss));
        });
      }, () => {
        f.set(ss, () => f.f32Load(0, pa));
        f.set(vs, () => f.f32x4Splat(ss));
        emitRowLoop(f, cols, [[po, 1], pb], vector(() => f.get(vs), (o) => f.v128Load(o, pb)), () => {
          f.i32Store8(0, po, () => f.f32Compare(op, ss, () => f.f32Load(0, pb)));
        });
      });
    });
  });
}

/**
 * castU8F32Strided(x, xRow, xCol, out, outRow, rows, cols): bool (bytes 0/1) to float32, the mask of a
 * ReLU's backward pass; xCol 0 means one byte for the whole row.
 */
function emitCastU8F32(mb: ModuleBuilder): void {
  const f = mb.func("castU8F32Strided", Array(7).fill(i32));
  const [x, xRow, xCol, out, outRow, rows, cols] = f.params;
  const [r, px, po] = f.locals(i32, 3);
  const halves = f.local(v128);
  const vs = f.local(v128);
  const ss = f.local(f32);
  f.forRange(r, 0, rows, 1, () => {
    f.set(px, () => f.i32Add(x, () => f.i32Mul(r, xRow)));
    f.set(po, () => f.i32Add(out, () => f.i32Mul(r, outRow)));
    f.if(xCol, () => {
      emitRowLoop(f, cols, [po, [px, 1]], (t) => {
        if (t % 2) return;
        // Eight bytes → eight 16-bit lanes → two i32x4 → two f32x4.
        f.set(halves, () => f.v128Load8x8U(t * 4, px));
        f.v128Store(t * 16, po, () => f.f32x4ConvertI32x4S(() => f.i32x4ExtendLowI16x8U(halves)));
        f.v128Store(t * 16 + 16, po, () => f.f32x4ConvertI32x4S(() => f.i32x4ExtendHighI16x8U(halves)));
      }, () => f.f32Store(0, po, () => f.f32ConvertI32S(() => f.i32Load8U(0, px))));
    }, () => {
      f.set(ss, () => f.f32ConvertI32S(() => f.i32Load8U(0, px)));
      f.set(vs, () => f.f32x4Splat(ss));
      emitRowLoop(f, cols, [po], (t) => f.v128Store(t * 16, po, vs), () => f.f32Store(0, po, ss));
    });
  });
}

/**
 * transposeF32(src, srcLd, dst, dstLd, rows, cols): dst[i, j] = src[j, i] for i < rows, j < cols (leading
 * dimensions in floats) — a copy whose source is read down columns, as making a transposed view contiguous
 * is. 4×4 tiles: four v128 loads along source rows, a register transpose, four v128 stores along
 * destination rows, so both sides move whole vectors; 32-row bands keep the source lines in cache while
 * the band is walked.
 */
function emitTranspose(mb: ModuleBuilder): void {
  const f = mb.func("transposeF32", Array(6).fill(i32));
  const [src, srcLd, dst, dstLd, rows, cols] = f.params;
  const [i0, iEnd, i, j, s, d, srcRow, dstRow, rows4, cols4] = f.locals(i32, 10);
  const r = f.locals(v128, 4);
  const t = f.locals(v128, 4);
  f.set(srcRow, () => f.i32Shl(srcLd, 2));
  f.set(dstRow, () => f.i32Shl(dstLd, 2));
  f.set(rows4, () => f.i32And(rows, ~3));
  f.set(cols4, () => f.i32And(cols, ~3));
  const BAND = 32;
  f.forRange(i0, 0, rows4, BAND, () => {
    f.set(iEnd, () => f.i32MinS(() => f.i32Add(i0, BAND), rows4));
    f.forRange(j, 0, cols4, 4, () => {
      f.forRange(i, i0, iEnd, 4, () => {
        // s = &src[j, i], d = &dst[i, j]
        f.set(s, () => f.i32Add(src, () => f.i32Shl(() => f.i32Add(() => f.i32Mul(j, srcLd), i), 2)));
        f.set(d, () => f.i32Add(dst, () => f.i32Shl(() => f.i32Add(() => f.i32Mul(i, dstLd), j), 2)));
        for (let k = 0; k < 4; k++) {
          f.set(r[k]!, () => f.v128Load(0, s));
          if (k < 3) f.inc(s, srcRow);
        }
        f.set(t[0]!, () => f.f32x4Shuffle([0, 4, 1, 5], r[0], r[1]));
        f.set(t[1]!, () => f.f32x4Shuffle([2, 6, 3, 7], r[0], r[1]));
        f.set(t[2]!, () => f.f32x4Shuffle([0, 4, 1, 5], r[2], r[3]));
        f.set(t[3]!, () => f.f32x4Shuffle([2, 6, 3, 7], r[2], r[3]));
        f.v128Store(0, d, () => f.f32x4Shuffle([0, 1, 4, 5], t[0], t[2]));
        f.inc(d, dstRow);
        f.v128Store(0, d, () => f.f32x4Shuffle([2, 3, 6, 7], t[0], t[2]));
        f.inc(d, dstRow);
        f.v128Store(0, d, () => f.f32x4Shuffle([0, 1, 4, 5], t[1], t[3]));
        f.inc(d, dstRow);
        f.v128Store(0, d, () => f.f32x4Shuffle([2, 3, 6, 7], t[1], t[3]));
      });
    });
  });
  // Edges: the last cols % 4 columns for every row, then the last rows % 4 rows for the other columns.
  const scalar = (iFrom: Local, iTo: Local, jFrom: Local, jTo: Local) => {
    f.forRange(i, iFrom, iTo, 1, () => {
      f.forRange(j, jFrom, jTo, 1, () => {
        f.f32Store(
          0,
          () => f.i32Add(dst, () => f.i32Shl(() => f.i32Add(() => f.i32Mul(i, dstLd), j), 2)),
          () => f.f32Load(0, () => f.i32Add(src, () => f.i32Shl(() => f.i32Add(() => f.i32Mul(j, srcLd), i), 2))),
        );
      });
    });
  };
  const zero = f.local(i32);
  f.set(zero, 0);
  scalar(zero, rows, cols4, cols);
  scalar(rows4, rows, zero, cols4);
}

/**
 * sumRowsF32(x, out, rows, n): out[r] = Σ x[r·n … r·n + n). Sixteen float32 lanes add blocks of up to 1024
 * elements (64 per lane), and each block's total is added in double precision, so a long row (a batch-norm
 * channel of 32 768 values) keeps about the accuracy of a double accumulation at SIMD speed.
 */
function emitSumRows(mb: ModuleBuilder): void {
  const f = mb.func("sumRowsF32", [i32, i32, i32, i32]);
  const [x, out, rows, n] = f.params;
  const [r, p, end, blockEnd, end16] = f.locals(i32, 5);
  const acc = f.locals(v128, 4);
  const total = f.local(ValType.f64);
  const BLOCK = 1024 * 4;
  f.forRange(r, 0, rows, 1, () => {
    f.set(p, () => f.i32Add(x, () => f.i32Mul(r, () => f.i32Shl(n, 2))));
    f.set(end, () => f.i32Add(p, () => f.i32Shl(n, 2)));
    f.set(end16, () => f.i32Add(p, () => f.i32Shl(() => f.i32And(n, ~15), 2)));
    f.set(total, () => f.f64Const(0));
    f.block((done) => {
      f.loop((blocks) => {
        f.brIf(done, () => f.i32GeU(p, end16));
        for (const a of acc) f.set(a, () => f.v128Zero());
        f.set(blockEnd, () => f.i32Add(p, BLOCK));
        f.set(blockEnd, () => f.select(blockEnd, end16, () => f.i32LtU(blockEnd, end16)));
        f.loop((top) => {
          for (let i = 0; i < 4; i++) f.set(acc[i]!, () => f.f32x4Add(acc[i], () => f.v128Load(i * 16, p)));
          f.inc(p, 64);
          f.brIf(top, () => f.i32LtU(p, blockEnd));
        });
        f.set(acc[0]!, () => f.f32x4Add(() => f.f32x4Add(acc[0], acc[1]), () => f.f32x4Add(acc[2], acc[3])));
        for (let lane = 0; lane < 4; lane++) {
          f.set(total, () => f.f64Add(total, () => f.f64PromoteF32(() => f.f32x4ExtractLane(lane, acc[0]))));
        }
        f.br(blocks);
      });
    });
    f.block((exit) => {
      f.loop((top) => {
        f.brIf(exit, () => f.i32GeU(p, end));
        f.set(total, () => f.f64Add(total, () => f.f64PromoteF32(() => f.f32Load(0, p))));
        f.inc(p, 4);
        f.br(top);
      });
    });
    f.f32Store(0, () => f.i32Add(out, () => f.i32Shl(r, 2)), () => f.f32DemoteF64(total));
  });
}

/**
 * sumStridedF32(x, out, outer, outerStride, n1, stride1, n0): out[r] = Σ_{a < n1} Σ_{b < n0}
 * x[r·outerStride + a·stride1 + b] (strides in bytes) — a row sum whose rows are n1 runs of n0 contiguous
 * floats, as a sum over [N, H·W] of an [N, C, H·W] array is per channel. Each run is summed in float32
 * lanes (blocks of up to 1024) and added in double precision, as sumRowsF32 does.
 */
function emitSumStrided(mb: ModuleBuilder): void {
  const f = mb.func("sumStridedF32", Array(7).fill(i32));
  const [x, out, outer, outerStride, n1, stride1, n0] = f.params;
  const [r, a, base, p, end, end16, blockEnd] = f.locals(i32, 7);
  const acc = f.locals(v128, 4);
  const total = f.local(ValType.f64);
  f.forRange(r, 0, outer, 1, () => {
    f.set(base, () => f.i32Add(x, () => f.i32Mul(r, outerStride)));
    f.set(total, () => f.f64Const(0));
    f.forRange(a, 0, n1, 1, () => {
      f.set(p, () => f.i32Add(base, () => f.i32Mul(a, stride1)));
      f.set(end, () => f.i32Add(p, () => f.i32Shl(n0, 2)));
      f.set(end16, () => f.i32Add(p, () => f.i32Shl(() => f.i32And(n0, ~15), 2)));
      f.block((done) => {
        f.loop((blocks) => {
          f.brIf(done, () => f.i32GeU(p, end16));
          for (const v of acc) f.set(v, () => f.v128Zero());
          f.set(blockEnd, () => f.i32Add(p, 4096));
          f.set(blockEnd, () => f.select(blockEnd, end16, () => f.i32LtU(blockEnd, end16)));
          f.loop((top) => {
            for (let i = 0; i < 4; i++) f.set(acc[i]!, () => f.f32x4Add(acc[i], () => f.v128Load(i * 16, p)));
            f.inc(p, 64);
            f.brIf(top, () => f.i32LtU(p, blockEnd));
          });
          f.set(acc[0]!, () => f.f32x4Add(() => f.f32x4Add(acc[0], acc[1]), () => f.f32x4Add(acc[2], acc[3])));
          for (let lane = 0; lane < 4; lane++) {
            f.set(total, () => f.f64Add(total, () => f.f64PromoteF32(() => f.f32x4ExtractLane(lane, acc[0]))));
          }
          f.br(blocks);
        });
      });
      f.block((exit) => {
        f.loop((top) => {
          f.brIf(exit, () => f.i32GeU(p, end));
          f.set(total, () => f.f64Add(total, () => f.f64PromoteF32(() => f.f32Load(0, p))));
          f.inc(p, 4);
          f.br(top);
        });
      });
    });
    f.f32Store(0, () => f.i32Add(out, () => f.i32Shl(r, 2)), () => f.f32DemoteF64(total));
  });
}

/**
 * swapBlocksF32(src, dst, A, B, L, srcA, dstB): for a < A and b < B, the L floats of source row
 * (a·srcA + b) go to destination row (b·dstB + a) — the [C, N, L] ↔ [N, C, L] reorder between a batched
 * convolution's product and NCHW (srcA, dstB let either side be a channel range of a wider array).
 */
function emitSwapBlocks(mb: ModuleBuilder): void {
  const f = mb.func("swapBlocksF32", Array(7).fill(i32));
  const [src, dst, A, B, L, srcA, dstB] = f.params;
  const [ai, bi, ps, pd, rowBytes] = f.locals(i32, 5);
  f.set(rowBytes, () => f.i32Shl(L, 2));
  f.forRange(ai, 0, A, 1, () => {
    f.set(ps, () => f.i32Add(src, () => f.i32Mul(() => f.i32Mul(ai, srcA), rowBytes)));
    f.forRange(bi, 0, B, 1, () => {
      f.set(pd, () => f.i32Add(dst, () => f.i32Mul(() => f.i32Add(() => f.i32Mul(bi, dstB), ai), rowBytes)));
      // ps walks the source rows of this a in order (row a·srcA + b is L floats after row a·srcA + b − 1).
      emitRowLoop(f, L, [pd, ps], (t) => f.v128Store(t * 16, pd, () => f.v128Load(t * 16, ps)), () => f.f32Store(0, pd, () => f.f32Load(0, ps)));
    });
  });
}

export function emitStridedElementwise(mb: ModuleBuilder): void {
  for (const def of BINARY_F32) emitBinary2d(mb, def);
  for (const def of UNARY_F32) emitUnary2d(mb, def);
  for (const op of COMPARE_F32) emitCompare2d(mb, op);
  emitCastU8F32(mb);
  emitSumRows(mb);
  emitSumStrided(mb);
  emitSwapBlocks(mb);
  emitTranspose(mb);
}

/** Names of the strided binary kernels, by backend op (comparisons write bytes). */
export type StridedBinaryName =
  | "addF32Strided" | "subF32Strided" | "mulF32Strided" | "divF32Strided"
  | "eqF32Strided" | "neF32Strided" | "ltF32Strided" | "gtF32Strided" | "leF32Strided" | "geF32Strided";
/** Names of the strided unary kernels, by backend op ("copy" is the identity, for strided copies). */
export type StridedUnaryName =
  | "copyF32Strided" | "negF32Strided" | "absF32Strided" | "squareF32Strided" | "sqrtF32Strided"
  | "rsqrtF32Strided" | "reciprocalF32Strided" | "reluF32Strided" | "castU8F32Strided";

/** The kernels' JavaScript signatures (pointers and row strides in bytes). */
export type StridedElementwiseExports =
  & {
    [K in StridedBinaryName]: (
      a: number, aRow: number, aCol: number, b: number, bRow: number, bCol: number,
      out: number, outRow: number, rows: number, cols: number,
    ) => void;
  }
  & {
    [K in StridedUnaryName]: (
      x: number, xRow: number, xCol: number, out: number, outRow: number, rows: number, cols: number,
    ) => void;
  }
  & {
    sumRowsF32(x: number, out: number, rows: number, n: number): void;
    sumStridedF32(x: number, out: number, outer: number, outerStride: number, n1: number, stride1: number, n0: number): void;
    swapBlocksF32(src: number, dst: number, A: number, B: number, L: number, srcA: number, dstB: number): void;
    transposeF32(src: number, srcLd: number, dst: number, dstLd: number, rows: number, cols: number): void;
  };

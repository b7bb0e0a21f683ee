// Generates im2col and its adjoint col2im for one NCHW image, so a convolution becomes one GEMM:
//   col[(c·kh + ki)·kw + kj, oh·OW + ow] = x[c, oh·sh − ph + ki·dh, ow·sw − pw + kj·dw]   (0 outside x)
//   forward:  out[OC, OH·OW] = weight[OC, C·kh·kw] · col
//   backward: dcol = weightᵀ · dout, then col2im(dcol) accumulates into dx.
// For each (c, ki, kj) the range of ow that lands inside the image is computed once, so the inner loop is
// a straight (vector, when the stride is 1) copy between two zero fills, never a per-element test.
import {
  type FunctionBuilder,
  type Local,
  type ModuleBuilder,
  ValType,
} from "./emitter.ts";

const i32 = ValType.i32;

/** Geometry parameters shared by both functions, in this order after the two pointers. */
const GEOMETRY = [
  "C",
  "H",
  "W",
  "kh",
  "kw",
  "sh",
  "sw",
  "ph",
  "pw",
  "dh",
  "dw",
  "gap",
] as const;

interface Geometry {
  C: Local;
  H: Local;
  W: Local;
  kh: Local;
  kw: Local;
  sh: Local;
  sw: Local;
  ph: Local;
  pw: Local;
  dh: Local;
  dw: Local;
  /** Bytes between the end of one col row (OH·OW floats) and the start of the next: 0 for one image's
   * col matrix, (N − 1)·OH·OW·4 when the images of a batch sit side by side in [C·kh·kw, N·OH·OW]. */
  gap: Local;
}

/**
 * Emits the (c, ki, kj, oh) loop nest shared by im2col and col2im. `row` is called for every output row
 * with ih inside the image, owLo..owHi the valid ow range, `src` the address of x[c, ih, owLo·sw + offW];
 * `outside` for rows with ih outside. `colRow` walks the col matrix one OW-long row at a time.
 */
function emitLoops(
  f: FunctionBuilder,
  x: Local,
  col: Local,
  g: Geometry,
  body: (
    v: {
      colRow: Local;
      src: Local;
      owLo: Local;
      owHi: Local;
      OW: Local;
      inside: boolean;
    },
  ) => void,
): void {
  const [OH, OW, c, ki, kj, oh, ih, offW, owLo, owHi, t, colRow, src, plane] = f
    .locals(i32, 14);
  const outSize = (n: Local, k: Local, s: Local, p: Local, d: Local) =>
    f.i32Add(() =>
      f.i32DivU(
        () =>
          f.i32Sub(() =>
            f.i32Sub(() =>
              f.i32Add(n, () => f.i32Shl(p, 1)), () =>
              f.i32Mul(d, () => f.i32Sub(k, 1))), 1),
        s,
      ), 1);
  f.set(OH, () => outSize(g.H, g.kh, g.sh, g.ph, g.dh));
  f.set(OW, () => outSize(g.W, g.kw, g.sw, g.pw, g.dw));
  f.set(colRow, col);
  f.forRange(c, 0, g.C, 1, () => {
    f.set(
      plane,
      () =>
        f.i32Add(
          x,
          () => f.i32Shl(() => f.i32Mul(() => f.i32Mul(c, g.H), g.W), 2),
        ),
    );
    f.forRange(ki, 0, g.kh, 1, () => {
      f.forRange(kj, 0, g.kw, 1, () => {
        // iw = ow·sw + offW; valid ow are those with 0 ≤ iw < W.
        f.set(offW, () => f.i32Sub(() => f.i32Mul(kj, g.dw), g.pw));
        f.set(
          owLo,
          () =>
            f.select(
              0,
              () =>
                f.i32DivU(
                  () =>
                    f.i32Add(() => f.i32Sub(0, offW), () => f.i32Sub(g.sw, 1)),
                  g.sw,
                ),
              () => f.i32GeS(offW, 0),
            ),
        );
        f.set(t, () => f.i32Sub(() => f.i32Sub(g.W, 1), offW));
        f.set(
          owHi,
          () =>
            f.select(
              () => f.i32MinS(OW, () => f.i32Add(() => f.i32DivU(t, g.sw), 1)),
              0,
              () => f.i32GeS(t, 0),
            ),
        );
        f.set(owLo, () => f.i32MinS(owLo, OW));
        f.set(owLo, () => f.i32MinS(owLo, owHi));
        f.forRange(oh, 0, OH, 1, () => {
          f.set(
            ih,
            () =>
              f.i32Add(
                () => f.i32Sub(() => f.i32Mul(oh, g.sh), g.ph),
                () => f.i32Mul(ki, g.dh),
              ),
          );
          // One unsigned compare rejects ih < 0 and ih ≥ H.
          f.if(() => f.i32LtU(ih, g.H), () => {
            f.set(
              src,
              () =>
                f.i32Add(
                  plane,
                  () =>
                    f.i32Shl(() =>
                      f.i32Add(() =>
                        f.i32Mul(ih, g.W), () =>
                        f.i32Add(() => f.i32Mul(owLo, g.sw), offW)), 2),
                ),
            );
            body({ colRow, src, owLo, owHi, OW, inside: true });
          }, () => body({ colRow, src, owLo, owHi, OW, inside: false }));
          f.inc(colRow, () => f.i32Shl(OW, 2));
        });
        f.inc(colRow, g.gap);
      });
    });
  });
}

function geometryParams(f: FunctionBuilder): Geometry {
  const p = f.params.slice(2);
  return Object.fromEntries(
    GEOMETRY.map((name, i) => [name, p[i]!]),
  ) as unknown as Geometry;
}

/** dst[i] += src[i] for count floats: four at a time, then one at a time. */
function emitAddInto(
  f: FunctionBuilder,
  dst: Local,
  src: Local,
  count: Local,
): void {
  const end = f.local(i32);
  const end4 = f.local(i32);
  f.set(end, () => f.i32Add(src, () => f.i32Shl(count, 2)));
  f.set(
    end4,
    () => f.i32Add(src, () => f.i32Shl(() => f.i32And(count, ~3), 2)),
  );
  f.block((exit) => {
    f.loop((top) => {
      f.brIf(exit, () => f.i32GeU(src, end4));
      f.v128Store(
        0,
        dst,
        () => f.f32x4Add(() => f.v128Load(0, dst), () => f.v128Load(0, src)),
      );
      f.inc(src, 16);
      f.inc(dst, 16);
      f.br(top);
    });
  });
  f.block((exit) => {
    f.loop((top) => {
      f.brIf(exit, () => f.i32GeU(src, end));
      f.f32Store(
        0,
        dst,
        () => f.f32Add(() => f.f32Load(0, dst), () => f.f32Load(0, src)),
      );
      f.inc(src, 4);
      f.inc(dst, 4);
      f.br(top);
    });
  });
}

/** dst[0..count) = src[0..count), four floats at a time then one (advances dst and src). */
function emitCopyFloats(
  f: FunctionBuilder,
  dst: Local,
  src: Local,
  count: Local,
): void {
  const end = f.local(i32);
  const end4 = f.local(i32);
  f.set(end, () => f.i32Add(src, () => f.i32Shl(count, 2)));
  f.set(
    end4,
    () => f.i32Add(src, () => f.i32Shl(() => f.i32And(count, ~3), 2)),
  );
  f.block((exit) => {
    f.loop((top) => {
      f.brIf(exit, () => f.i32GeU(src, end4));
      f.v128Store(0, dst, () => f.v128Load(0, src));
      f.inc(src, 16);
      f.inc(dst, 16);
      f.br(top);
    });
  });
  f.block((exit) => {
    f.loop((top) => {
      f.brIf(exit, () => f.i32GeU(src, end));
      f.i32Store(0, dst, () => f.i32Load(0, src));
      f.inc(src, 4);
      f.inc(dst, 4);
      f.br(top);
    });
  });
}

/** dst[0..count) = 0, four floats at a time then one (advances dst). */
function emitZeroFloats(f: FunctionBuilder, dst: Local, count: Local): void {
  const end = f.local(i32);
  const end4 = f.local(i32);
  f.set(end, () => f.i32Add(dst, () => f.i32Shl(count, 2)));
  f.set(
    end4,
    () => f.i32Add(dst, () => f.i32Shl(() => f.i32And(count, ~3), 2)),
  );
  f.block((exit) => {
    f.loop((top) => {
      f.brIf(exit, () => f.i32GeU(dst, end4));
      f.v128Store(0, dst, () => f.v128Zero());
      f.inc(dst, 16);
      f.br(top);
    });
  });
  f.block((exit) => {
    f.loop((top) => {
      f.brIf(exit, () => f.i32GeU(dst, end));
      f.i32Store(0, dst, 0);
      f.inc(dst, 4);
      f.br(top);
    });
  });
}

export function emitIm2col(mb: ModuleBuilder): void {
  // im2col(x, col, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, gap)
  {
    const f = mb.func("im2col", Array(2 + GEOMETRY.length).fill(i32));
    const [x, col] = f.params;
    const g = geometryParams(f);
    const [j, s, d] = f.locals(i32, 3);
    // Rows are short (OW floats), so inline loops beat memory.copy/fill, which V8 runs as calls.
    const [n, z] = f.locals(i32, 2);
    emitLoops(f, x, col, g, ({ colRow, src, owLo, owHi, OW, inside }) => {
      f.set(d, colRow);
      if (!inside) {
        emitZeroFloats(f, d, OW);
        return;
      }
      emitZeroFloats(f, d, owLo);
      // Only touch src when the range is not empty: then it is an address inside x.
      f.set(n, () => f.i32Sub(owHi, owLo));
      f.if(() => f.i32GtS(n, 0), () => {
        f.set(s, src);
        f.if(() => f.i32Eq(g.sw, 1), () => {
          emitCopyFloats(f, d, s, n);
        }, () => {
          f.forRange(j, owLo, owHi, 1, () => {
            f.i32Store(0, d, () => f.i32Load(0, s));
            f.inc(d, 4);
            f.inc(s, () => f.i32Shl(g.sw, 2));
          });
        });
      });
      f.set(z, () => f.i32Sub(OW, owHi));
      emitZeroFloats(f, d, z);
    });
  }
  // col2im(col, x, C, H, W, ...): x[c, ih, iw] += col[...] for every col element that im2col read from there.
  {
    const f = mb.func("col2im", Array(2 + GEOMETRY.length).fill(i32));
    const [col, x] = f.params;
    const g = geometryParams(f);
    const [j, s, d, count] = f.locals(i32, 4);
    emitLoops(f, x, col, g, ({ colRow, src, owLo, owHi, inside }) => {
      if (!inside) return;
      f.set(s, () => f.i32Add(colRow, () => f.i32Shl(owLo, 2)));
      f.set(d, src);
      f.if(() => f.i32Eq(g.sw, 1), () => {
        f.set(count, () => f.i32Sub(owHi, owLo));
        emitAddInto(f, d, s, count);
      }, () => {
        f.forRange(j, owLo, owHi, 1, () => {
          f.f32Store(
            0,
            d,
            () => f.f32Add(() => f.f32Load(0, d), () => f.f32Load(0, s)),
          );
          f.inc(s, 4);
          f.inc(d, () => f.i32Shl(g.sw, 2));
        });
      });
    });
  }
}

export interface Im2colExports {
  im2col(
    x: number,
    col: number,
    C: number,
    H: number,
    W: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    ph: number,
    pw: number,
    dh: number,
    dw: number,
    gap: number,
  ): void;
  col2im(
    col: number,
    x: number,
    C: number,
    H: number,
    W: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    ph: number,
    pw: number,
    dh: number,
    dw: number,
    gap: number,
  ): void;
}

// Generates max pooling over NCHW planes with the position of each maximum. The comparison is branch-free
// (`select` / `bitselect`, conditional moves): which tap of a window wins is data-dependent and, on real
// activations, close to random, so a branch per tap mispredicts about once per window — that, not the
// arithmetic, is what a loop in JavaScript spends its time on. Four neighbouring windows that lie wholly
// inside the image in x are done at once in v128 lanes (their taps are four loads `stride` apart); the
// windows at the left and right borders, and rows whose windows reach into the padding in y, go one at a
// time with their valid tap range computed once per window.
import { type ModuleBuilder, ValType } from "./emitter.ts";

const i32 = ValType.i32;
const f32 = ValType.f32;

/**
 * maxPoolF32(x, out, indices, planes, H, W, kh, kw, OH, OW, sh, sw, ph, pw, dh, dw): for each of `planes`
 * H×W planes at x, out gets the OH×OW window maxima and indices (int32) the flat index ih·W + iw of each
 * maximum in its plane. Ties keep the first tap in row-major window order; every NaN is taken, so NaN
 * propagates and the window's last NaN gives the index, as in PyTorch (`val > max || isnan(val)`).
 */
export function emitMaxPool(mb: ModuleBuilder): void {
  const f = mb.func("maxPoolF32", Array(16).fill(i32));
  const [x, out, indices, planes, H, W, kh, kw, OH, OW, sh, sw, ph, pw, dh, dw] = f.params;
  const [pl, oy, ox, ki, kj, kiLo, kiHi, kjLo, kjHi, iy0, ix0, iy, at, take, plane, row, o, t] = f.locals(i32, 18);
  const [best, v] = f.locals(f32, 2);
  // First k with 0 ≤ start + k·d, and one past the last with start + k·d < size, clamped to [0, k].
  const lo = (start: typeof iy0, d: typeof dh, k: typeof kh) =>
    f.select(
      0,
      () => f.i32MinS(k, () => f.i32DivU(() => f.i32Add(() => f.i32Sub(0, start), () => f.i32Sub(d, 1)), d)),
      () => f.i32GeS(start, 0),
    );
  const hi = (start: typeof iy0, d: typeof dh, k: typeof kh, size: typeof H) =>
    f.select(
      () => f.i32MinS(k, () => f.i32Add(() => f.i32DivU(() => f.i32Sub(() => f.i32Sub(size, 1), start), d), 1)),
      0,
      () => f.i32LtS(start, size),
    );
  const [oxA, oxB, ix, k] = f.locals(i32, 4);
  const [vb, vv, vt, vat, vidx, lanes] = f.locals(ValType.v128, 6);
  // Windows ox ∈ [oxA, oxB] have every tap inside the image in x: ox·sw − pw ≥ 0 and
  // ox·sw − pw + (kw − 1)·dw ≤ W − 1.
  f.set(oxA, () => f.i32DivU(() => f.i32Add(pw, () => f.i32Sub(sw, 1)), sw));
  f.set(t, () => f.i32Sub(() => f.i32Add(() => f.i32Sub(W, 1), pw), () => f.i32Mul(() => f.i32Sub(kw, 1), dw)));
  f.set(oxB, () => f.select(() => f.i32DivU(t, sw), -1, () => f.i32GeS(t, 0)));
  // Lane l of a 4-window block reads l·sw further right.
  f.set(lanes, () => f.i32x4Splat(0));
  for (let l = 1; l < 4; l++) f.set(lanes, () => f.i32x4ReplaceLane(l, lanes, () => f.i32Mul(sw, l)));
  f.set(o, 0);
  f.forRange(pl, 0, planes, 1, () => {
    f.set(plane, () => f.i32Add(x, () => f.i32Shl(() => f.i32Mul(pl, () => f.i32Mul(H, W)), 2)));
    f.forRange(oy, 0, OH, 1, () => {
      f.set(iy0, () => f.i32Sub(() => f.i32Mul(oy, sh), ph));
      f.set(kiLo, () => lo(iy0, dh, kh));
      f.set(kiHi, () => hi(iy0, dh, kh, H));
      f.set(ox, 0);
      f.block((rowDone) => {
        f.loop((next) => {
          f.brIf(rowDone, () => f.i32GeS(ox, OW));
          f.if(
            () => f.i32And(() => f.i32And(() => f.i32GeS(ox, oxA), () => f.i32LeS(() => f.i32Add(ox, 3), oxB)), () => f.i32LtS(kiLo, kiHi)),
            () => {
              // Four windows in lanes. Start from the first tap, then take every tap (the first again is a no-op).
              f.set(ix0, () => f.i32Sub(() => f.i32Mul(ox, sw), pw));
              const gather = () => {
                f.set(ix, () => f.i32Add(() => f.i32Add(row, ix0), () => f.i32Mul(kj, dw)));
                f.set(k, () => f.i32Add(plane, () => f.i32Shl(ix, 2)));
                f.set(vv, () => f.f32x4Splat(() => f.f32Load(0, k)));
                for (let l = 1; l < 4; l++) {
                  f.set(vv, () => f.f32x4ReplaceLane(l, vv, () => f.f32Load(0, () => f.i32Add(k, () => f.i32Shl(() => f.i32Mul(sw, l), 2)))));
                }
                f.set(vidx, () => f.i32x4Add(() => f.i32x4Splat(ix), lanes));
              };
              f.set(row, () => f.i32Mul(() => f.i32Add(iy0, () => f.i32Mul(kiLo, dh)), W));
              f.set(kj, 0);
              gather();
              f.set(vb, vv);
              f.set(vat, vidx);
              f.forRange(ki, kiLo, kiHi, 1, () => {
                f.set(row, () => f.i32Mul(() => f.i32Add(iy0, () => f.i32Mul(ki, dh)), W));
                f.forRange(kj, 0, kw, 1, () => {
                  gather();
                  // take = v > best, or v is NaN (every NaN, so the last one's index wins, as the scalar path).
                  f.set(vt, () => f.v128Or(() => f.f32x4Compare("gt", vv, vb), () => f.f32x4Compare("ne", vv, vv)));
                  f.set(vb, () => f.v128Bitselect(vv, vb, vt));
                  f.set(vat, () => f.v128Bitselect(vidx, vat, vt));
                });
              });
              f.v128Store(0, () => f.i32Add(out, o), vb);
              f.v128Store(0, () => f.i32Add(indices, o), vat);
              f.inc(o, 16);
              f.inc(ox, 4);
            },
            () => {
              f.set(ix0, () => f.i32Sub(() => f.i32Mul(ox, sw), pw));
              f.set(kjLo, () => lo(ix0, dw, kw));
              f.set(kjHi, () => hi(ix0, dw, kw, W));
              f.set(best, () => f.f32Const(-Infinity));
              f.set(at, -1);
              f.forRange(ki, kiLo, kiHi, 1, () => {
                f.set(iy, () => f.i32Add(iy0, () => f.i32Mul(ki, dh)));
                f.set(row, () => f.i32Mul(iy, W));
                f.forRange(kj, kjLo, kjHi, 1, () => {
                  f.set(ix, () => f.i32Add(() => f.i32Add(row, ix0), () => f.i32Mul(kj, dw)));
                  f.set(v, () => f.f32Load(0, () => f.i32Add(plane, () => f.i32Shl(ix, 2))));
                  // take = v > best, or nothing taken yet, or v is NaN.
                  f.set(take, () =>
                    f.i32Or(
                      () => f.i32Or(() => f.f32Gt(v, best), () => f.i32LtS(at, 0)),
                      () => f.f32Ne(v, v),
                    ));
                  f.set(best, () => f.select(v, best, take));
                  f.set(at, () => f.select(ix, at, take));
                });
              });
              f.f32Store(0, () => f.i32Add(out, o), best);
              f.i32Store(0, () => f.i32Add(indices, o), at);
              f.inc(o, 4);
              f.inc(ox, 1);
            },
          );
          f.br(next);
        });
      });
    });
  });
}

export interface PoolExports {
  maxPoolF32(
    x: number, out: number, indices: number, planes: number, H: number, W: number, kh: number, kw: number,
    OH: number, OW: number, sh: number, sw: number, ph: number, pw: number, dh: number, dw: number,
  ): void;
}

import type { Conv2dParams } from "../backend.ts";
import type { Gemm } from "./gemm.ts";

type Floats = Float32Array | Float64Array;

function like(a: Floats, size: number): Floats {
  return new (a.constructor as Float64ArrayConstructor)(size);
}

/**
 * Unfolds the receptive fields of image `n`, channels `c0 … c0 + cg − 1`, into `col` [cg·kh·kw, oh·ow]
 * (zeros where the window reaches into the padding), so a convolution becomes one matrix product.
 */
export function im2col(x: Floats, n: number, c0: number, cg: number, p: Conv2dParams, col: Floats): void {
  const { c, h, w, kh, kw, oh, ow, strideH, strideW, padH, padW, dilationH, dilationW } = p;
  const L = oh * ow;
  for (let ci = 0; ci < cg; ci++) {
    const plane = ((n * c) + c0 + ci) * h * w;
    for (let ki = 0; ki < kh; ki++) {
      for (let kj = 0; kj < kw; kj++) {
        const row = ((ci * kh + ki) * kw + kj) * L;
        for (let oy = 0; oy < oh; oy++) {
          const iy = oy * strideH - padH + ki * dilationH;
          const dst = row + oy * ow;
          if (iy < 0 || iy >= h) {
            col.fill(0, dst, dst + ow);
            continue;
          }
          const src = plane + iy * w;
          for (let ox = 0; ox < ow; ox++) {
            const ix = ox * strideW - padW + kj * dilationW;
            col[dst + ox] = ix >= 0 && ix < w ? x[src + ix]! : 0;
          }
        }
      }
    }
  }
}

/** Adds the columns of `col` back onto image `n` of `dx` (the adjoint of `im2col`). */
export function col2im(col: Floats, n: number, c0: number, cg: number, p: Conv2dParams, dx: Floats): void {
  const { c, h, w, kh, kw, oh, ow, strideH, strideW, padH, padW, dilationH, dilationW } = p;
  const L = oh * ow;
  for (let ci = 0; ci < cg; ci++) {
    const plane = ((n * c) + c0 + ci) * h * w;
    for (let ki = 0; ki < kh; ki++) {
      for (let kj = 0; kj < kw; kj++) {
        const row = ((ci * kh + ki) * kw + kj) * L;
        for (let oy = 0; oy < oh; oy++) {
          const iy = oy * strideH - padH + ki * dilationH;
          if (iy < 0 || iy >= h) continue;
          const src = row + oy * ow;
          const dst = plane + iy * w;
          for (let ox = 0; ox < ow; ox++) {
            const ix = ox * strideW - padW + kj * dilationW;
            if (ix >= 0 && ix < w) dx[dst + ix] += col[src + ox]!;
          }
        }
      }
    }
  }
}

/** Forward convolution: per image and group, out_g = W_g · im2col(x). */
export function conv2dForward(x: Floats, weight: Floats, p: Conv2dParams, out: Floats, gemm: Gemm): void {
  const cg = p.c / p.groups, og = p.outC / p.groups, K = cg * p.kh * p.kw, L = p.oh * p.ow;
  const col = like(x, K * L);
  for (let n = 0; n < p.n; n++) {
    for (let g = 0; g < p.groups; g++) {
      im2col(x, n, g * cg, cg, p, col);
      gemm(false, false, og, L, K, weight, g * og * K, K, col, 0, L, out, (n * p.outC + g * og) * L, L, false);
    }
  }
}

/** Input gradient: per image and group, col2im(W_gᵀ · dY_g). */
export function conv2dInputGrad(gradOut: Floats, weight: Floats, p: Conv2dParams, dx: Floats, gemm: Gemm): void {
  const cg = p.c / p.groups, og = p.outC / p.groups, K = cg * p.kh * p.kw, L = p.oh * p.ow;
  const col = like(gradOut, K * L);
  for (let n = 0; n < p.n; n++) {
    for (let g = 0; g < p.groups; g++) {
      gemm(true, false, K, L, og, weight, g * og * K, K, gradOut, (n * p.outC + g * og) * L, L, col, 0, L, false);
      col2im(col, n, g * cg, cg, p, dx);
    }
  }
}

/** Weight gradient: Σ over images of dY_g · im2col(x)ᵀ. */
export function conv2dWeightGrad(x: Floats, gradOut: Floats, p: Conv2dParams, dw: Floats, gemm: Gemm): void {
  const cg = p.c / p.groups, og = p.outC / p.groups, K = cg * p.kh * p.kw, L = p.oh * p.ow;
  const col = like(x, K * L);
  for (let n = 0; n < p.n; n++) {
    for (let g = 0; g < p.groups; g++) {
      im2col(x, n, g * cg, cg, p, col);
      gemm(false, true, og, K, L, gradOut, (n * p.outC + g * og) * L, L, col, 0, L, dw, g * og * K, K, true);
    }
  }
}

import type { Pool2dParams } from "../backend.ts";

type Floats = Float32Array | Float64Array;

/**
 * Max over each window (padding never wins); records the winner's flat index in its input plane. The first
 * of tied values wins; a NaN wins over numbers, and the window's last NaN over earlier ones (PyTorch's scan).
 */
export function maxPoolForward(x: Floats, p: Pool2dParams, out: Floats, indices: Int32Array): void {
  const { h, w, kh, kw, oh, ow, strideH, strideW, padH, padW, dilationH, dilationW } = p;
  const planes = p.n * p.c;
  for (let pl = 0; pl < planes; pl++) {
    const xBase = pl * h * w, oBase = pl * oh * ow;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let best = -Infinity, at = -1;
        for (let ki = 0; ki < kh; ki++) {
          const iy = oy * strideH - padH + ki * dilationH;
          if (iy < 0 || iy >= h) continue;
          for (let kj = 0; kj < kw; kj++) {
            const ix = ox * strideW - padW + kj * dilationW;
            if (ix < 0 || ix >= w) continue;
            const v = x[xBase + iy * w + ix]!;
            // Every NaN is taken (NaN propagates, and the last one's index is recorded), as PyTorch's
            // `val > max || isnan(val)` and the WebAssembly kernel do.
            if (v > best || at < 0 || v !== v) {
              best = v;
              at = iy * w + ix;
            }
          }
        }
        out[oBase + oy * ow + ox] = best;
        indices[oBase + oy * ow + ox] = at;
      }
    }
  }
}

export function maxPoolBackward(gradOut: Floats, indices: Int32Array, p: Pool2dParams, dx: Floats): void {
  const planes = p.n * p.c, inPlane = p.h * p.w, outPlane = p.oh * p.ow;
  for (let pl = 0; pl < planes; pl++) {
    for (let i = 0; i < outPlane; i++) {
      const at = indices[pl * outPlane + i]!;
      if (at >= 0) dx[pl * inPlane + at] += gradOut[pl * outPlane + i]!;
    }
  }
}

function windowDivisor(p: Pool2dParams, oy: number, ox: number): number {
  const y0 = oy * p.strideH - p.padH, x0 = ox * p.strideW - p.padW;
  if (p.countIncludePad) {
    const y1 = Math.min(y0 + p.kh, p.h + p.padH), x1 = Math.min(x0 + p.kw, p.w + p.padW);
    return (y1 - y0) * (x1 - x0);
  }
  const rows = Math.min(y0 + p.kh, p.h) - Math.max(y0, 0);
  const cols = Math.min(x0 + p.kw, p.w) - Math.max(x0, 0);
  return rows * cols;
}

export function avgPoolForward(x: Floats, p: Pool2dParams, out: Floats): void {
  const { h, w, kh, kw, oh, ow, strideH, strideW, padH, padW } = p;
  for (let pl = 0; pl < p.n * p.c; pl++) {
    const xBase = pl * h * w, oBase = pl * oh * ow;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let acc = 0;
        for (let iy = Math.max(oy * strideH - padH, 0); iy < Math.min(oy * strideH - padH + kh, h); iy++) {
          for (let ix = Math.max(ox * strideW - padW, 0); ix < Math.min(ox * strideW - padW + kw, w); ix++) {
            acc += x[xBase + iy * w + ix]!;
          }
        }
        out[oBase + oy * ow + ox] = acc / windowDivisor(p, oy, ox);
      }
    }
  }
}

export function avgPoolBackward(gradOut: Floats, p: Pool2dParams, dx: Floats): void {
  const { h, w, kh, kw, oh, ow, strideH, strideW, padH, padW } = p;
  for (let pl = 0; pl < p.n * p.c; pl++) {
    const xBase = pl * h * w, oBase = pl * oh * ow;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const g = gradOut[oBase + oy * ow + ox]! / windowDivisor(p, oy, ox);
        for (let iy = Math.max(oy * strideH - padH, 0); iy < Math.min(oy * strideH - padH + kh, h); iy++) {
          for (let ix = Math.max(ox * strideW - padW, 0); ix < Math.min(ox * strideW - padW + kw, w); ix++) {
            dx[xBase + iy * w + ix] += g;
          }
        }
      }
    }
  }
}

import type { Pool2dParams } from "@backprop/tensor";
import { entry1d, storageDecls } from "../bindings.ts";
import type { ParamWriter } from "../params.ts";
import type { KernelSpec } from "../runtime.ts";

/**
 * 2-D pooling over NCHW planes, one thread per output (forward) or per input pixel (backward). The backward
 * passes gather from the outputs whose windows contain the pixel instead of scattering into it, so overlapping
 * windows need no atomics and the result does not depend on thread order.
 */
const POOL_PARAMS = `
  let total = pu(0u); let H = pu(1u); let W = pu(2u); let KH = pu(3u); let KW = pu(4u);
  let OH = pu(5u); let OW = pu(6u); let SH = pu(7u); let SW = pu(8u); let PH = i32(pu(9u)); let PW = i32(pu(10u));
  let DH = pu(11u); let DW = pu(12u); let includePad = pu(13u) != 0u;
  if (i >= total) { return; }`;

export function writePoolParams(p: ParamWriter, total: number, q: Pool2dParams): void {
  p.u32s([total, q.h, q.w, q.kh, q.kw, q.oh, q.ow, q.strideH, q.strideW, q.padH, q.padW, q.dilationH, q.dilationW]);
  p.u32(q.countIncludePad ? 1 : 0);
}

/** Divisor of average window (oy, ox), as the CPU backend computes it. */
const DIVISOR = `
fn divisor_(oy: u32, ox: u32, H: u32, W: u32, KH: u32, KW: u32, SH: u32, SW: u32, PH: i32, PW: i32, includePad: bool) -> f32 {
  let y0 = i32(oy * SH) - PH; let x0 = i32(ox * SW) - PW;
  if (includePad) {
    let y1 = min(y0 + i32(KH), i32(H) + PH); let x1 = min(x0 + i32(KW), i32(W) + PW);
    return f32((y1 - y0) * (x1 - x0));
  }
  let rows = min(y0 + i32(KH), i32(H)) - max(y0, 0);
  let cols = min(x0 + i32(KW), i32(W)) - max(x0, 0);
  return f32(rows * cols);
}`;

export const maxPoolKernel: KernelSpec = {
  key: "maxpool2d",
  inputs: 1,
  outputs: 2,
  source: () => `
${storageDecls([["x", "array<f32>"]], [["out", "array<f32>"], ["idx", "array<i32>"]])}
${entry1d(256)}${POOL_PARAMS}
  let plane = i / (OH * OW); let o = i % (OH * OW); let oy = o / OW; let ox = o % OW;
  let base = plane * H * W;
  var best = -inf_(); var at = -1i;
  for (var ki = 0u; ki < KH; ki++) {
    let iy = i32(oy * SH + ki * DH) - PH;
    if (iy < 0 || iy >= i32(H)) { continue; }
    for (var kj = 0u; kj < KW; kj++) {
      let ix = i32(ox * SW + kj * DW) - PW;
      if (ix < 0 || ix >= i32(W)) { continue; }
      let v = x[base + u32(iy) * W + u32(ix)];
      // The first maximum wins; every NaN is taken, so the window's last NaN gives the index, as in PyTorch
      // and on the CPU. isnan_ tests the bits, and no comparison meets a NaN: WGSL may assume there are none.
      if (at < 0 || isnan_(v) || (!isnan_(best) && v > best)) {
        best = v; at = iy * i32(W) + ix;
      }
    }
  }
  out[i] = best; idx[i] = at;
}`,
};

export const maxPoolBackwardKernel: KernelSpec = {
  key: "maxpool2d-backward",
  inputs: 2,
  outputs: 1,
  source: () => `
${storageDecls([["gy", "array<f32>"], ["idx", "array<i32>"]], [["dx", "array<f32>"]])}
${entry1d(256)}${POOL_PARAMS}
  let plane = i / (H * W); let p = i % (H * W); let iy = p / W; let ix = p % W;
  let obase = plane * OH * OW;
  var acc = 0.0;
  // Output rows whose window covers iy: oy·SH − PH + ki·DH = iy for some tap ki.
  for (var ki = 0u; ki < KH; ki++) {
    let ty = i32(iy) + PH - i32(ki * DH);
    if (ty < 0 || u32(ty) % SH != 0u) { continue; }
    let oy = u32(ty) / SH;
    if (oy >= OH) { continue; }
    for (var kj = 0u; kj < KW; kj++) {
      let tx = i32(ix) + PW - i32(kj * DW);
      if (tx < 0 || u32(tx) % SW != 0u) { continue; }
      let ox = u32(tx) / SW;
      if (ox >= OW) { continue; }
      let o = obase + oy * OW + ox;
      if (idx[o] == i32(p)) { acc += gy[o]; }
    }
  }
  dx[i] = acc;
}`,
};

export const avgPoolKernel: KernelSpec = {
  key: "avgpool2d",
  inputs: 1,
  outputs: 1,
  source: () => `${DIVISOR}
${storageDecls([["x", "array<f32>"]], [["out", "array<f32>"]])}
${entry1d(256)}${POOL_PARAMS}
  let plane = i / (OH * OW); let o = i % (OH * OW); let oy = o / OW; let ox = o % OW;
  let base = plane * H * W;
  let y0 = i32(oy * SH) - PH; let x0 = i32(ox * SW) - PW;
  var acc = 0.0;
  for (var iy = max(y0, 0); iy < min(y0 + i32(KH), i32(H)); iy++) {
    for (var ix = max(x0, 0); ix < min(x0 + i32(KW), i32(W)); ix++) {
      acc += x[base + u32(iy) * W + u32(ix)];
    }
  }
  out[i] = acc / divisor_(oy, ox, H, W, KH, KW, SH, SW, PH, PW, includePad);
}`,
};

export const avgPoolBackwardKernel: KernelSpec = {
  key: "avgpool2d-backward",
  inputs: 1,
  outputs: 1,
  source: () => `${DIVISOR}
${storageDecls([["gy", "array<f32>"]], [["dx", "array<f32>"]])}
${entry1d(256)}${POOL_PARAMS}
  let plane = i / (H * W); let p = i % (H * W); let iy = p / W; let ix = p % W;
  let obase = plane * OH * OW;
  var acc = 0.0;
  // Average pooling ignores dilation (as the CPU backend does): window oy covers rows oy·SH − PH … + KH − 1.
  for (var ki = 0u; ki < KH; ki++) {
    let ty = i32(iy) + PH - i32(ki);
    if (ty < 0 || u32(ty) % SH != 0u) { continue; }
    let oy = u32(ty) / SH;
    if (oy >= OH) { continue; }
    for (var kj = 0u; kj < KW; kj++) {
      let tx = i32(ix) + PW - i32(kj);
      if (tx < 0 || u32(tx) % SW != 0u) { continue; }
      let ox = u32(tx) / SW;
      if (ox >= OW) { continue; }
      acc += gy[obase + oy * OW + ox] / divisor_(oy, ox, H, W, KH, KW, SH, SW, PH, PW, includePad);
    }
  }
  dx[i] = acc;
}`,
};

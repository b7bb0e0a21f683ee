import type { Conv2dParams } from "@backprop/tensor";
import type { ParamWriter } from "../params.ts";
import type { GemmProblem } from "./gemm.ts";
import type { GemmSizes } from "./gemm_run.ts";

/**
 * The three convolution passes as implicit GEMMs, one batch entry per group (NCHW input x [n, c, h, w],
 * weight [outC, c/groups, kh, kw], output y [n, outC, oh, ow]; L = oh·ow, KK = kh·kw, cg/og = channels per group):
 *
 * - forward:        y_g[og, n·L]      = W_g[og, cg·KK] · im2col(x)_g[cg·KK, n·L]
 * - input gradient: dx_g[cg, n·h·w]   = W_gᵀ[cg, og·KK] · D_g[og·KK, n·h·w], where D reads the dy pixel each
 *                   (input pixel, kernel tap) pair came from (zero where the stride skips it): a gather, so no
 *                   atomics and no col2im pass
 * - weight gradient: dW_g[og, cg·KK]  = dy_g[og, n·L] · im2col(x)_gᵀ[n·L, cg·KK]  (split-K over n·L)
 *
 * The unfolded matrices exist only as index arithmetic inside the tile loads.
 */
const CONV_DECLS = `
var<private> C: u32; var<private> H: u32; var<private> W: u32; var<private> OC: u32;
var<private> KH: u32; var<private> KW: u32; var<private> OH: u32; var<private> OW: u32;
var<private> SH: u32; var<private> SW: u32; var<private> PH: u32; var<private> PW: u32;
var<private> DH: u32; var<private> DW: u32; var<private> CG: u32; var<private> OG: u32;
// im2col(x) of group g at row (ci, ki, kj) and column (image, output pixel), zero in the padding.
fn im2col_(g: u32, row: u32, col: u32) -> f32 {
  let khw = KH * KW;
  let ci = row / khw; let r = row % khw; let ki = r / KW; let kj = r % KW;
  let L = OH * OW;
  let ni = col / L; let l = col % L; let oy = l / OW; let ox = l % OW;
  let iy = i32(oy * SH + ki * DH) - i32(PH);
  let ix = i32(ox * SW + kj * DW) - i32(PW);
  if (iy < 0 || ix < 0 || iy >= i32(H) || ix >= i32(W)) { return 0.0; }
  return x_[((ni * C + g * CG + ci) * H + u32(iy)) * W + u32(ix)];
}`;

const CONV_PROLOGUE = `C = pu(7u); H = pu(8u); W = pu(9u); OC = pu(10u); KH = pu(11u); KW = pu(12u);
  OH = pu(13u); OW = pu(14u); SH = pu(15u); SW = pu(16u); PH = pu(17u); PW = pu(18u);
  DH = pu(19u); DW = pu(20u); CG = pu(21u); OG = pu(22u);`;

export function writeConvParams(p: ParamWriter, c: Conv2dParams): void {
  p.u32s([c.c, c.h, c.w, c.outC, c.kh, c.kw, c.oh, c.ow, c.strideH, c.strideW, c.padH, c.padW, c.dilationH, c.dilationW]);
  p.u32s([c.c / c.groups, c.outC / c.groups]);
}

export const convForwardProblem: GemmProblem = {
  key: "conv2d-forward",
  type: "f32",
  inputs: [["x_", "array<f32>"], ["w_", "array<f32>"]],
  decls: `${CONV_DECLS}
fn loadA_(g: u32, m: u32, k: u32) -> f32 { return w_[(g * OG + m) * (CG * KH * KW) + k]; }
fn loadB_(g: u32, k: u32, n: u32) -> f32 { return im2col_(g, k, n); }
fn outIndex_(g: u32, m: u32, n: u32) -> u32 {
  let L = OH * OW;
  return ((n / L) * OC + g * OG + m) * L + n % L;
}`,
  prologue: CONV_PROLOGUE,
  aMFast: false,
  bNFast: true,
};

export function convForwardSizes(c: Conv2dParams): GemmSizes {
  return {
    batch: c.groups,
    m: c.outC / c.groups,
    n: c.n * c.oh * c.ow,
    k: (c.c / c.groups) * c.kh * c.kw,
    outSize: c.n * c.outC * c.oh * c.ow,
  };
}

export const convInputGradProblem: GemmProblem = {
  key: "conv2d-input-grad",
  type: "f32",
  // Binding x_ holds dy here: the shared declarations name the image operand x_.
  inputs: [["x_", "array<f32>"], ["w_", "array<f32>"]],
  decls: `${CONV_DECLS}
fn loadA_(g: u32, m: u32, k: u32) -> f32 {
  let khw = KH * KW;
  return w_[((g * OG + k / khw) * CG + m) * khw + k % khw];
}
fn loadB_(g: u32, k: u32, n: u32) -> f32 {
  let khw = KH * KW;
  let oc = k / khw; let r = k % khw; let ki = r / KW; let kj = r % KW;
  let hw = H * W;
  let ni = n / hw; let p = n % hw; let iy = p / W; let ix = p % W;
  let ty = i32(iy + PH) - i32(ki * DH);
  let tx = i32(ix + PW) - i32(kj * DW);
  if (ty < 0 || tx < 0) { return 0.0; }
  let uy = u32(ty); let ux = u32(tx);
  if (uy % SH != 0u || ux % SW != 0u) { return 0.0; }
  let oy = uy / SH; let ox = ux / SW;
  if (oy >= OH || ox >= OW) { return 0.0; }
  return x_[((ni * OC + g * OG + oc) * OH + oy) * OW + ox];
}
fn outIndex_(g: u32, m: u32, n: u32) -> u32 {
  let hw = H * W;
  return ((n / hw) * C + g * CG + m) * hw + n % hw;
}`,
  prologue: CONV_PROLOGUE,
  aMFast: false,
  bNFast: true,
};

export function convInputGradSizes(c: Conv2dParams): GemmSizes {
  return {
    batch: c.groups,
    m: c.c / c.groups,
    n: c.n * c.h * c.w,
    k: (c.outC / c.groups) * c.kh * c.kw,
    outSize: c.n * c.c * c.h * c.w,
  };
}

export const convWeightGradProblem: GemmProblem = {
  key: "conv2d-weight-grad",
  type: "f32",
  inputs: [["x_", "array<f32>"], ["dy_", "array<f32>"]],
  decls: `${CONV_DECLS}
fn loadA_(g: u32, m: u32, k: u32) -> f32 {
  let L = OH * OW;
  return dy_[((k / L) * OC + g * OG + m) * L + k % L];
}
fn loadB_(g: u32, k: u32, n: u32) -> f32 { return im2col_(g, n, k); }
fn outIndex_(g: u32, m: u32, n: u32) -> u32 { return (g * OG + m) * (CG * KH * KW) + n; }`,
  prologue: CONV_PROLOGUE,
  aMFast: false,
  bNFast: false,
};

export function convWeightGradSizes(c: Conv2dParams): GemmSizes {
  return {
    batch: c.groups,
    m: c.outC / c.groups,
    n: (c.c / c.groups) * c.kh * c.kw,
    k: c.n * c.oh * c.ow,
    outSize: c.outC * (c.c / c.groups) * c.kh * c.kw,
  };
}

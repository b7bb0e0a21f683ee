// im2col / col2im entry points for a convolution lowered to GEMM (NCHW, one image per call). Operands in
// the kernels' memory are used in place; others are staged through scratch.
import {
  activeKernels,
  activeVariant,
  wasmRuntime,
  workerPool,
} from "./runtime.ts";
import { addressInMemory, scratch } from "./scratch.ts";
import { ShapeError, ValueError } from "../../errors.ts";

/** Shape of one convolution input image and the kernel window; defaults: stride 1, padding 0, dilation 1. */
export interface Conv2dGeometry {
  /** Input channels C. */
  readonly channels: number;
  /** Input height H. */
  readonly height: number;
  /** Input width W. */
  readonly width: number;
  /** Kernel height. */
  readonly kernelH: number;
  /** Kernel width. */
  readonly kernelW: number;
  /** Vertical stride (default 1). */
  readonly strideH?: number;
  /** Horizontal stride (default 1). */
  readonly strideW?: number;
  /** Zero rows added above and below (default 0). */
  readonly padH?: number;
  /** Zero columns added left and right (default 0). */
  readonly padW?: number;
  /** Vertical spacing of kernel taps (default 1). */
  readonly dilationH?: number;
  /** Horizontal spacing of kernel taps (default 1). */
  readonly dilationW?: number;
}

interface Resolved {
  C: number;
  H: number;
  W: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  dh: number;
  dw: number;
  OH: number;
  OW: number;
  /** Rows of the col matrix: C·kh·kw. */
  K: number;
}

function resolve(op: string, g: Conv2dGeometry): Resolved {
  const r = {
    C: g.channels,
    H: g.height,
    W: g.width,
    kh: g.kernelH,
    kw: g.kernelW,
    sh: g.strideH ?? 1,
    sw: g.strideW ?? 1,
    ph: g.padH ?? 0,
    pw: g.padW ?? 0,
    dh: g.dilationH ?? 1,
    dw: g.dilationW ?? 1,
  };
  for (const [name, v] of Object.entries(r)) {
    const min =
      name === "ph" || name === "pw" || name === "C" || name === "H" ||
        name === "W"
        ? 0
        : 1;
    if (!Number.isInteger(v) || v < min) {
      throw new ValueError(
        `${op}: ${name} must be an integer ≥ ${min}, got ${v}`,
      );
    }
  }
  const OH = Math.floor((r.H + 2 * r.ph - r.dh * (r.kh - 1) - 1) / r.sh) + 1;
  const OW = Math.floor((r.W + 2 * r.pw - r.dw * (r.kw - 1) - 1) / r.sw) + 1;
  if (OH < 1 || OW < 1) {
    throw new ShapeError(
      `${op}: a ${r.kh}×${r.kw} kernel (dilation ${r.dh}×${r.dw}) does not fit a padded ${r.H}×${r.W} image`,
    );
  }
  return { ...r, OH, OW, K: r.C * r.kh * r.kw };
}

/** Output height and width of a convolution with this geometry. */
export function conv2dOutputSize(
  g: Conv2dGeometry,
): { outH: number; outW: number } {
  const r = resolve("conv2dOutputSize", g);
  return { outH: r.OH, outW: r.OW };
}

function checkRange(
  op: string,
  name: string,
  a: Float32Array,
  offset: number,
  count: number,
): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + count > a.length) {
    throw new ShapeError(
      `${op}: ${name} needs ${count} elements from offset ${offset}, has ${a.length}`,
    );
  }
}

/**
 * Below this many col elements one image stays on the calling thread. Channels are independent in both
 * directions (channel c reads or writes only its own plane and its own kh·kw rows of col), so larger
 * images are split by channel ranges over the worker pool.
 */
const PARALLEL_MIN_COL = 1 << 16;

/** Runs im2col or col2im (same argument layout) on the pool by channel ranges, or here when small. */
function run(
  fn: "im2col" | "col2im",
  first: number,
  second: number,
  r: Resolved,
): void {
  const geometry = [r.H, r.W, r.kh, r.kw, r.sh, r.sw, r.ph, r.pw, r.dh, r.dw, 0];
  const kernels = activeKernels();
  const pool = r.K * r.OH * r.OW >= PARALLEL_MIN_COL && r.C >= 2
    ? workerPool()
    : undefined;
  if (!pool) {
    kernels[fn](first, second, r.C, ...(geometry as Geometry11));
    return;
  }
  const parts = Math.min(r.C, 4 * (pool.size + 1));
  const plane = r.H * r.W * 4, colRows = r.kh * r.kw * r.OH * r.OW * 4;
  // Byte step per channel of the first and second argument (im2col: x, col; col2im: col, x).
  const [firstStep, secondStep] = fn === "im2col"
    ? [plane, colRows]
    : [colRows, plane];
  const chunks: number[][] = [];
  for (let i = 0; i < parts; i++) {
    const c0 = Math.floor((r.C * i) / parts),
      c1 = Math.floor((r.C * (i + 1)) / parts);
    if (c1 > c0) {
      chunks.push([
        first + c0 * firstStep,
        second + c0 * secondStep,
        c1 - c0,
        ...geometry,
      ]);
    }
  }
  pool.run(
    fn,
    activeVariant(),
    chunks,
    (a) => kernels[fn](...(a as Parameters<typeof kernels.im2col>)),
  );
}

type Geometry11 = [
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
];

/** Writes the (C·kh·kw) × (OH·OW) col matrix of one C×H×W image at x[xOffset]. */
export function im2col(
  x: Float32Array,
  xOffset: number,
  g: Conv2dGeometry,
  col: Float32Array,
  colOffset: number,
): void {
  const r = resolve("im2col", g);
  const xCount = r.C * r.H * r.W, colCount = r.K * r.OH * r.OW;
  checkRange("im2col", "x", x, xOffset, xCount);
  checkRange("im2col", "col", col, colOffset, colCount);
  if (colCount === 0) return;
  let px = addressInMemory(x, xOffset);
  let pc = addressInMemory(col, colOffset);
  const staged = pc === undefined;
  if (px === undefined || pc === undefined) {
    const base = scratch(
      (px === undefined ? xCount : 0) * 4 +
        (pc === undefined ? colCount : 0) * 4,
    );
    let at = base;
    if (px === undefined) {
      px = at;
      at += xCount * 4;
      wasmRuntime().heap.f32.set(
        x.subarray(xOffset, xOffset + xCount),
        px >>> 2,
      );
    }
    if (pc === undefined) pc = at;
  }
  run("im2col", px, pc, r);
  if (staged) {
    col.set(
      wasmRuntime().heap.f32.subarray(pc >>> 2, (pc >>> 2) + colCount),
      colOffset,
    );
  }
}

/**
 * The adjoint of im2col: adds every col element into the image position im2col read it from. With
 * accumulate false, the C×H×W image at dx[dxOffset] is zeroed first.
 */
export function col2im(
  col: Float32Array,
  colOffset: number,
  g: Conv2dGeometry,
  dx: Float32Array,
  dxOffset: number,
  accumulate: boolean,
): void {
  const r = resolve("col2im", g);
  const xCount = r.C * r.H * r.W, colCount = r.K * r.OH * r.OW;
  checkRange("col2im", "col", col, colOffset, colCount);
  checkRange("col2im", "dx", dx, dxOffset, xCount);
  if (!accumulate) dx.fill(0, dxOffset, dxOffset + xCount);
  if (colCount === 0) return;
  let pc = addressInMemory(col, colOffset);
  let px = addressInMemory(dx, dxOffset);
  const staged = px === undefined;
  if (pc === undefined || px === undefined) {
    const base = scratch(
      (pc === undefined ? colCount : 0) * 4 +
        (px === undefined ? xCount : 0) * 4,
    );
    let at = base;
    const f32 = wasmRuntime().heap.f32;
    if (pc === undefined) {
      pc = at;
      at += colCount * 4;
      f32.set(col.subarray(colOffset, colOffset + colCount), pc >>> 2);
    }
    if (px === undefined) {
      px = at;
      f32.set(dx.subarray(dxOffset, dxOffset + xCount), px >>> 2);
    }
  }
  run("col2im", pc, px, r);
  if (staged) {
    dx.set(
      wasmRuntime().heap.f32.subarray(px >>> 2, (px >>> 2) + xCount),
      dxOffset,
    );
  }
}

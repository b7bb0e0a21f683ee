// The im2col kernel (what the CPU convolutions lower their input with) against its definition (exact: it only
// copies), and the col2im kernel (which adds) as its adjoint (⟨im2col x, y⟩ = ⟨x, col2im y⟩) and against a
// float32 loop in the same order (exact). Random geometry: stride, padding and dilation, at odd offsets, and
// the gap argument that places images side by side in one col block.
import fc from "fast-check";
import { expect, test } from "vitest";
import { activeKernels } from "../src/cpu/wasm/runtime.ts";
import { wasmAlloc } from "./wasm_buffers.ts";

/** Shape of one input image and the kernel window; defaults: stride 1, padding 0, dilation 1. */
interface Conv2dGeometry {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly kernelH: number;
  readonly kernelW: number;
  readonly strideH?: number;
  readonly strideW?: number;
  readonly padH?: number;
  readonly padW?: number;
  readonly dilationH?: number;
  readonly dilationW?: number;
}

function resolved(g: Conv2dGeometry): Required<Conv2dGeometry> {
  return { strideH: 1, strideW: 1, padH: 0, padW: 0, dilationH: 1, dilationW: 1, ...g };
}

function conv2dOutputSize(g: Conv2dGeometry): { outH: number; outW: number } {
  const r = resolved(g);
  return {
    outH: Math.floor((r.height + 2 * r.padH - r.dilationH * (r.kernelH - 1) - 1) / r.strideH) + 1,
    outW: Math.floor((r.width + 2 * r.padW - r.dilationW * (r.kernelW - 1) - 1) / r.strideW) + 1,
  };
}

/** Runs the im2col (x → col) or col2im (col → x, adding) kernel; `gapBytes` between col rows of one image. */
function lower(fn: "im2col" | "col2im", src: number, dst: number, g: Conv2dGeometry, gapBytes = 0): void {
  const r = resolved(g);
  activeKernels()[fn](
    src, dst, r.channels, r.height, r.width, r.kernelH, r.kernelW, r.strideH, r.strideW, r.padH, r.padW, r.dilationH, r.dilationW,
    gapBytes,
  );
}

const geometry = fc
  .record({
    channels: fc.integer({ min: 1, max: 3 }),
    height: fc.integer({ min: 1, max: 9 }),
    width: fc.integer({ min: 1, max: 11 }),
    kernelH: fc.integer({ min: 1, max: 3 }),
    kernelW: fc.integer({ min: 1, max: 4 }),
    strideH: fc.integer({ min: 1, max: 3 }),
    strideW: fc.integer({ min: 1, max: 3 }),
    padH: fc.integer({ min: 0, max: 2 }),
    padW: fc.integer({ min: 0, max: 3 }),
    dilationH: fc.integer({ min: 1, max: 2 }),
    dilationW: fc.integer({ min: 1, max: 3 }),
  })
  .filter((g) =>
    g.height + 2 * g.padH >= g.dilationH * (g.kernelH - 1) + 1 &&
    g.width + 2 * g.padW >= g.dilationW * (g.kernelW - 1) + 1
  );

/** Visits every (row of col, column of col, image index or -1 for padding) in im2col order. */
function forEachTap(
  g: Required<Conv2dGeometry>,
  visit: (colIndex: number, xIndex: number) => void,
): void {
  const { outH, outW } = conv2dOutputSize(g);
  let at = 0;
  for (let c = 0; c < g.channels; c++) {
    for (let ki = 0; ki < g.kernelH; ki++) {
      for (let kj = 0; kj < g.kernelW; kj++) {
        for (let oh = 0; oh < outH; oh++) {
          for (let ow = 0; ow < outW; ow++, at++) {
            const ih = oh * g.strideH - g.padH + ki * g.dilationH;
            const iw = ow * g.strideW - g.padW + kj * g.dilationW;
            const inside = ih >= 0 && ih < g.height && iw >= 0 && iw < g.width;
            visit(at, inside ? (c * g.height + ih) * g.width + iw : -1);
          }
        }
      }
    }
  }
}

function sizes(g: Conv2dGeometry) {
  const { outH, outW } = conv2dOutputSize(g);
  return {
    xCount: g.channels * g.height * g.width,
    colCount: g.channels * g.kernelH * g.kernelW * outH * outW,
  };
}

test("the im2col kernel matches its definition and col2im is its adjoint (adding into its output)", () => {
  fc.assert(
    fc.property(geometry, (g) => {
      const full = resolved(g);
      const { xCount, colCount } = sizes(g);
      const x = Float32Array.from({ length: xCount + 3 }, (_, i) => i + 1);
      const want = new Float32Array(colCount + 2);
      forEachTap(full, (ci, xi) => (want[ci + 2] = xi < 0 ? 0 : x[xi + 3]!));

      const X = wasmAlloc(x.length), C = wasmAlloc(colCount + 2), D = wasmAlloc(xCount + 3);
      X.view.set(x);
      lower("im2col", X.ptr + 12, C.ptr + 8, g);
      expect(C.view).toEqual(want);

      // col2im in the same summation order as the kernel, in float32: equal bit for bit.
      const y = Float32Array.from({ length: colCount + 2 }, (_, i) => Math.sin(i) * 4);
      const dxWant = new Float32Array(xCount + 3).fill(0.5);
      forEachTap(full, (ci, xi) => {
        if (xi >= 0) dxWant[xi + 3] = Math.fround(dxWant[xi + 3]! + y[ci + 2]!);
      });
      C.view.set(y);
      D.view.fill(0.5);
      lower("col2im", C.ptr + 8, D.ptr + 12, g);
      expect(D.view).toEqual(dxWant);

      // Adjointness, in float64, up to the float32 rounding of col2im's sums (bounded by the terms' magnitudes:
      // the terms cancel, so |lhs| itself can be far smaller than the rounding).
      let lhs = 0, rhs = 0, magnitude = 0;
      forEachTap(full, (ci, xi) => {
        if (xi < 0) return;
        lhs += x[xi + 3]! * y[ci + 2]!;
        magnitude += Math.abs(x[xi + 3]! * y[ci + 2]!);
      });
      D.view.fill(0);
      lower("col2im", C.ptr + 8, D.ptr + 12, g);
      const dx = D.view;
      for (let i = 0; i < xCount; i++) rhs += x[i + 3]! * dx[i + 3]!;
      expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(1e-5 * magnitude + 1e-4);
      [X, C, D].forEach((b) => b.free());
    }),
    { numRuns: 120 },
  );
});

test("with a gap, the col rows of two images interleave: each image's columns land in its half", () => {
  fc.assert(
    fc.property(geometry, (g) => {
      const { outH, outW } = conv2dOutputSize(g);
      const { xCount, colCount } = sizes(g);
      const L = outH * outW, rows = colCount / L;
      const X = wasmAlloc(2 * xCount), C = wasmAlloc(2 * colCount), single = wasmAlloc(colCount);
      X.view.set(Float32Array.from({ length: 2 * xCount }, (_, i) => i - xCount));
      // Image i's col block starts i·L floats into each row of 2·L; the gap skips the other image's L floats.
      lower("im2col", X.ptr, C.ptr, g, L * 4);
      lower("im2col", X.ptr + xCount * 4, C.ptr + L * 4, g, L * 4);
      for (let i = 0; i < 2; i++) {
        lower("im2col", X.ptr + i * xCount * 4, single.ptr, g);
        const both = C.view, one = single.view;
        for (let r = 0; r < rows; r++) {
          expect(both.subarray(r * 2 * L + i * L, r * 2 * L + i * L + L)).toEqual(one.subarray(r * L, r * L + L));
        }
      }
      [X, C, single].forEach((b) => b.free());
    }),
    { numRuns: 60 },
  );
});

// im2col against its definition (exact: it only copies), col2im as its adjoint (⟨im2col x, y⟩ = ⟨x, col2im y⟩)
// and against a float32 loop in the same order (exact), and a whole convolution (im2col + GEMM) against a
// float64 direct convolution. Random geometry: stride, padding and dilation, in and out of kernel memory.
import fc from "fast-check";
import { afterAll, expect, test } from "vitest";
import {
  col2im,
  type Conv2dGeometry,
  conv2dOutputSize,
  gemm,
  im2col,
  setNumThreads,
  stopWasmWorkers,
  wasmAlloc,
  wasmSimdInfo,
} from "../src/cpu/wasm/mod.ts";

afterAll(() => stopWasmWorkers());

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

test("im2col matches its definition and col2im is its adjoint, in and out of kernel memory", () => {
  fc.assert(
    fc.property(geometry, fc.boolean(), (g, useMemory) => {
      const full = g as Required<Conv2dGeometry>;
      const { xCount, colCount } = sizes(g);
      const x = Float32Array.from({ length: xCount + 3 }, (_, i) => i + 1);
      const want = new Float32Array(colCount + 2);
      forEachTap(full, (ci, xi) => (want[ci + 2] = xi < 0 ? 0 : x[xi + 3]!));

      const X = useMemory ? wasmAlloc(x.length) : undefined;
      X?.view.set(x);
      const C = useMemory ? wasmAlloc(colCount + 2) : undefined;
      const col = C?.view ?? new Float32Array(colCount + 2);
      im2col(X?.view ?? x, 3, g, col, 2);
      expect(col).toEqual(want);

      // col2im in the same summation order as the kernel, in float32: equal bit for bit.
      const y = Float32Array.from(
        { length: colCount + 2 },
        (_, i) => Math.sin(i) * 4,
      );
      const dxWant = new Float32Array(xCount + 3).fill(0.5);
      forEachTap(full, (ci, xi) => {
        if (xi >= 0) dxWant[xi + 3] = Math.fround(dxWant[xi + 3]! + y[ci + 2]!);
      });
      col.set(y);
      const D = useMemory ? wasmAlloc(xCount + 3) : undefined;
      const dx = D?.view ?? new Float32Array(xCount + 3);
      dx.fill(0.5);
      col2im(col, 2, g, dx, 3, true);
      expect(dx).toEqual(dxWant);

      // Adjointness, in float64.
      let lhs = 0, rhs = 0;
      forEachTap(
        full,
        (ci, xi) => (lhs += xi < 0 ? 0 : x[xi + 3]! * y[ci + 2]!),
      );
      col2im(col, 2, g, dx, 3, false);
      for (let i = 0; i < xCount; i++) rhs += x[i + 3]! * dx[i + 3]!;
      expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(
        1e-4 * (Math.abs(lhs) + 1),
      );
      X?.free();
      C?.free();
      D?.free();
    }),
    { numRuns: 120 },
  );
});

test("a convolution as im2col + GEMM matches a float64 direct convolution", () => {
  const g = {
    channels: 3,
    height: 7,
    width: 6,
    kernelH: 3,
    kernelW: 3,
    padH: 1,
    padW: 1,
    strideW: 2,
  };
  const outC = 5;
  const { outH, outW } = conv2dOutputSize(g);
  const { xCount, colCount } = sizes(g);
  const K = g.channels * 9;
  const x = Float32Array.from({ length: xCount }, (_, i) => Math.cos(i));
  const w = Float32Array.from(
    { length: outC * K },
    (_, i) => Math.sin(i * 0.7),
  );
  const col = new Float32Array(colCount);
  im2col(x, 0, g, col, 0);
  const out = new Float32Array(outC * outH * outW);
  gemm(
    false,
    false,
    outC,
    outH * outW,
    K,
    w,
    0,
    K,
    col,
    0,
    outH * outW,
    out,
    0,
    outH * outW,
    0,
  );
  for (let o = 0; o < outC; o++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        let s = 0;
        for (let c = 0; c < 3; c++) {
          for (let ki = 0; ki < 3; ki++) {
            for (let kj = 0; kj < 3; kj++) {
              const ih = oh - 1 + ki, iw = ow * 2 - 1 + kj;
              if (ih >= 0 && ih < 7 && iw >= 0 && iw < 6) {
                s += w[o * K + c * 9 + ki * 3 + kj]! *
                  x[(c * 7 + ih) * 6 + iw]!;
              }
            }
          }
        }
        expect(out[(o * outH + oh) * outW + ow]).toBeCloseTo(s, 4);
      }
    }
  }
});

test("geometry errors name the problem", () => {
  const x = new Float32Array(16);
  expect(() =>
    im2col(
      x,
      0,
      { channels: 1, height: 2, width: 2, kernelH: 3, kernelW: 3 },
      x,
      0,
    )
  ).toThrow(
    /does not fit/,
  );
  expect(() =>
    im2col(
      x,
      0,
      { channels: 1, height: 4, width: 4, kernelH: 1, kernelW: 1, strideH: 0 },
      x,
      0,
    )
  )
    .toThrow(/sh must be an integer ≥ 1/);
  expect(() =>
    im2col(
      x,
      0,
      { channels: 2, height: 4, width: 4, kernelH: 1, kernelW: 1 },
      x,
      0,
    )
  ).toThrow(
    /x needs 32 elements/,
  );
});

test("large images are split by channel ranges over two threads, with identical results", () => {
  const g = {
    channels: 16,
    height: 24,
    width: 45,
    kernelH: 3,
    kernelW: 3,
    padH: 1,
    padW: 1,
    strideW: 2,
  };
  const full = { strideH: 1, dilationH: 1, dilationW: 1, ...g } as Required<
    Conv2dGeometry
  >;
  const { xCount, colCount } = sizes(g);
  expect(colCount).toBeGreaterThanOrEqual(1 << 16);
  const x = Float32Array.from({ length: xCount }, (_, i) => Math.sin(i));
  const want = new Float32Array(colCount);
  forEachTap(full, (ci, xi) => (want[ci] = xi < 0 ? 0 : x[xi]!));
  const dxWant = new Float32Array(xCount);
  forEachTap(full, (ci, xi) => {
    if (xi >= 0) dxWant[xi] = Math.fround(dxWant[xi]! + want[ci]!);
  });
  setNumThreads(2);
  try {
    const X = wasmAlloc(xCount), C = wasmAlloc(colCount), D = wasmAlloc(xCount);
    X.view.set(x);
    im2col(X.view, 0, g, C.view, 0);
    expect(C.view).toEqual(want);
    col2im(C.view, 0, g, D.view, 0, false);
    expect(D.view).toEqual(dxWant);
    expect(wasmSimdInfo().workers).toBe(1);
    [X, C, D].forEach((b) => b.free());
  } finally {
    setNumThreads(1);
  }
});

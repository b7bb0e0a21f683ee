import type { AxisIndexParams } from "../backend.ts";
import type { TypedArray } from "../dtype.ts";
import { ValueError } from "../errors.ts";

function checkIndex(op: string, v: number, axisSize: number, at: number): void {
  if (v < 0 || v >= axisSize) {
    throw new ValueError(`${op}: index ${v} (at flat position ${at} of the index) is out of range 0..${axisSize - 1}`);
  }
}

/** out[o, j, i] = x[o, index[o, j, i], i]. */
export function gatherInto(x: TypedArray, index: Int32Array, p: AxisIndexParams, out: TypedArray): void {
  const { outer, axisSize, inner, indexSize } = p;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < indexSize; j++) {
      const row = (o * indexSize + j) * inner;
      for (let i = 0; i < inner; i++) {
        const v = index[row + i]!;
        checkIndex("gather", v, axisSize, row + i);
        out[row + i] = x[(o * axisSize + v) * inner + i]!;
      }
    }
  }
}

/** out[o, index[o, j, i], i] += src[o, j, i], into a zeroed out [outer, axisSize, inner]. */
export function scatterAddInto(src: TypedArray, index: Int32Array, p: AxisIndexParams, out: TypedArray): void {
  const { outer, axisSize, inner, indexSize } = p;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < indexSize; j++) {
      const row = (o * indexSize + j) * inner;
      for (let i = 0; i < inner; i++) {
        const v = index[row + i]!;
        checkIndex("scatterAdd", v, axisSize, row + i);
        out[(o * axisSize + v) * inner + i] += src[row + i]!;
      }
    }
  }
}

/** out[o, j, :] = x[o, index[j], :]. */
export function indexSelectInto(x: TypedArray, index: Int32Array, p: AxisIndexParams, out: TypedArray): void {
  const { outer, axisSize, inner, indexSize } = p;
  for (let j = 0; j < indexSize; j++) checkIndex("indexSelect", index[j]!, axisSize, j);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < indexSize; j++) {
      const from = (o * axisSize + index[j]!) * inner;
      out.set(x.subarray(from, from + inner), (o * indexSize + j) * inner);
    }
  }
}

/** out[o, index[j], :] += src[o, j, :], into a zeroed out [outer, axisSize, inner]. */
export function indexAddInto(src: TypedArray, index: Int32Array, p: AxisIndexParams, out: TypedArray): void {
  const { outer, axisSize, inner, indexSize } = p;
  for (let j = 0; j < indexSize; j++) checkIndex("indexAdd", index[j]!, axisSize, j);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < indexSize; j++) {
      const to = (o * axisSize + index[j]!) * inner, from = (o * indexSize + j) * inner;
      for (let i = 0; i < inner; i++) out[to + i] += src[from + i]!;
    }
  }
}

import type { ArgReduceOp, ReduceOp } from "../backend.ts";
import type { TypedArray } from "../dtype.ts";

/** Reduces each row of the contiguous [outer, size] block `x` into `out[outer]`. */
export function reduceRows(op: ReduceOp, x: TypedArray, outer: number, size: number, out: TypedArray): void {
  for (let r = 0; r < outer; r++) {
    const base = r * size;
    let acc: number;
    switch (op) {
      case "sum": {
        acc = 0;
        for (let i = 0; i < size; i++) acc += x[base + i]!;
        break;
      }
      case "prod": {
        acc = 1;
        for (let i = 0; i < size; i++) acc *= x[base + i]!;
        break;
      }
      case "max": {
        acc = -Infinity;
        for (let i = 0; i < size; i++) {
          const v = x[base + i]!;
          if (v > acc || v !== v) acc = v;
          if (acc !== acc) break;
        }
        break;
      }
      case "min": {
        acc = Infinity;
        for (let i = 0; i < size; i++) {
          const v = x[base + i]!;
          if (v < acc || v !== v) acc = v;
          if (acc !== acc) break;
        }
        break;
      }
    }
    out[r] = acc;
  }
}

/** Index of the first largest (smallest) value of each row; NaN counts as the extreme, as in PyTorch. */
export function argReduceRows(op: ArgReduceOp, x: TypedArray, outer: number, size: number, out: Int32Array): void {
  const better = op === "argmax" ? (v: number, b: number) => v > b : (v: number, b: number) => v < b;
  for (let r = 0; r < outer; r++) {
    const base = r * size;
    let best = x[base]!, at = 0;
    if (best === best) {
      for (let i = 1; i < size; i++) {
        const v = x[base + i]!;
        if (v !== v) {
          at = i;
          break;
        }
        if (better(v, best)) {
          best = v;
          at = i;
        }
      }
    }
    out[r] = at;
  }
}

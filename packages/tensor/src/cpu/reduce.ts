// Reductions over strided views, read in place. `reduce` visits the elements in the order of their memory
// layout (the smallest stride innermost), whatever dimensions are reduced, so a sum over a permuted or
// column-major view streams through memory instead of copying it first; the per-row accumulators are float64,
// as the contiguous loop's running sum was. `argReduce` keeps each row's order (its ties go to the first index).
import type { ArgReduceOp, ReduceOp, StridedView } from "../backend.ts";
import type { TypedArray } from "../dtype.ts";
import { ValueError } from "../errors.ts";
import { collapseDims, forEachRow, isDense } from "./strided.ts";

/** Number of leading dimensions of `shape` whose product is `outer` (the kept ones). */
export function keptDims(op: string, shape: readonly number[], outer: number): number {
  let split = 0, product = 1;
  while (split < shape.length && product !== outer) product *= shape[split++]!;
  if (product !== outer) {
    throw new ValueError(`${op}: no leading dimensions of [${shape.join(", ")}] multiply to ${outer} rows`);
  }
  return split;
}

/**
 * The view's dimensions paired with the output element each one moves to (row-major strides over the kept
 * dimensions, 0 over the reduced ones), ordered with the smallest input stride last and then merged.
 */
function memoryOrder(x: StridedView, kept: number): { shape: number[]; xStrides: number[]; outStrides: number[] } {
  const outStrides = new Array<number>(x.shape.length).fill(0);
  for (let d = kept - 1, s = 1; d >= 0; d--) {
    outStrides[d] = s;
    s *= x.shape[d]!;
  }
  const dims = x.shape.map((_, d) => d).sort((a, b) => Math.abs(x.strides[b]!) - Math.abs(x.strides[a]!) || a - b);
  const shape = dims.map((d) => x.shape[d]!);
  const views = [
    { storage: x.storage, shape, strides: dims.map((d) => x.strides[d]!), offset: x.offset },
    { storage: x.storage, shape, strides: dims.map((d) => outStrides[d]!), offset: 0 },
  ];
  const c = collapseDims(shape, views);
  return { shape: c.shape, xStrides: c.views[0]!.strides, outStrides: c.views[1]!.strides };
}

/** out[r] = op over row r of `x` (data = the storage's elements) seen as [outer, size]. */
export function reduceStrided(op: ReduceOp, x: StridedView, data: TypedArray, outer: number, size: number, out: TypedArray): void {
  const identity = op === "sum" ? 0 : op === "prod" ? 1 : op === "max" ? -Infinity : Infinity;
  // Dense rows (softmax's max over the last axis): one running value per row, without the set-up below.
  if (isDense(x)) {
    for (let r = 0, base = x.offset; r < outer; r++, base += size) {
      let acc = identity;
      for (let i = base; i < base + size; i++) {
        const v = data[i]!;
        if (op === "sum") acc += v;
        else if (op === "prod") acc *= v;
        else if ((op === "max" ? v > acc : v < acc) || v !== v) acc = v;
      }
      out[r] = acc;
    }
    return;
  }
  const acc = new Float64Array(outer).fill(identity);
  if (outer > 0 && size > 0) {
    const m = memoryOrder(x, keptDims(`cpu.reduce(${op})`, x.shape, outer));
    const inner = m.shape.length - 1;
    const xs = m.xStrides[inner] ?? 1, os = m.outStrides[inner] ?? 0;
    const views = [{ strides: m.xStrides, offset: x.offset }, { strides: m.outStrides, offset: 0 }];
    forEachRow(m.shape, views, ([xb, ob], n) => {
      let xi = xb!, oi = ob!;
      switch (op) {
        case "sum":
          if (os === 0) {
            let s = 0;
            for (let i = 0; i < n; i++, xi += xs) s += data[xi]!;
            acc[oi] += s;
          } else for (let i = 0; i < n; i++, xi += xs, oi += os) acc[oi] += data[xi]!;
          break;
        case "prod":
          for (let i = 0; i < n; i++, xi += xs, oi += os) acc[oi] *= data[xi]!;
          break;
        case "max":
          // NaN wins and stays.
          for (let i = 0; i < n; i++, xi += xs, oi += os) {
            const v = data[xi]!;
            if (v > acc[oi]! || v !== v) acc[oi] = v;
          }
          break;
        case "min":
          for (let i = 0; i < n; i++, xi += xs, oi += os) {
            const v = data[xi]!;
            if (v < acc[oi]! || v !== v) acc[oi] = v;
          }
          break;
      }
    });
  }
  for (let r = 0; r < outer; r++) out[r] = acc[r]!;
}

/**
 * Index of the first largest (smallest) value of each row of `x` seen as [outer, size]; NaN counts as the
 * extreme, as in PyTorch. Rows are walked in order.
 */
export function argReduceStrided(op: ArgReduceOp, x: StridedView, data: TypedArray, outer: number, size: number, out: Int32Array): void {
  if (outer === 0 || size === 0) return;
  const kept = keptDims(`cpu.${op}`, x.shape, outer);
  const rowShape = x.shape.slice(kept), rowStrides = x.strides.slice(kept);
  const better = op === "argmax" ? (v: number, b: number) => v > b : (v: number, b: number) => v < b;
  // Rows start at the kept dimensions' offsets; within a row, elements are visited in row-major order.
  const keptView = { strides: x.strides.slice(0, kept), offset: x.offset };
  const row = collapseDims(rowShape, [{ storage: x.storage, shape: rowShape, strides: rowStrides, offset: 0 }]);
  const rowView = row.views[0]!;
  const s = rowView.strides[row.shape.length - 1] ?? 1, step = kept === 0 ? 0 : x.strides[kept - 1]!;
  let r = 0;
  forEachRow(x.shape.slice(0, kept), [keptView], ([base], n) => {
    for (let k = 0; k < n; k++, r++) {
      // at < 0: nothing seen yet; done: a NaN was found (it wins, and the first one counts).
      let best = NaN, at = -1, i = 0, done = false;
      forEachRow(row.shape, [{ strides: rowView.strides, offset: base! + k * step }], ([b], len) => {
        for (let j = 0, xi = b!; j < len && !done; j++, xi += s, i++) {
          const v = data[xi]!;
          if (v !== v) {
            at = i;
            done = true;
          } else if (at < 0 || better(v, best)) {
            best = v;
            at = i;
          }
        }
      });
      out[r] = at;
    }
  });
}

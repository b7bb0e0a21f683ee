import type { DType, TypedArray } from "./dtype.ts";
import type { Shape } from "./shape.ts";

/** Arrays with more elements than this print only their first and last `EDGE_ITEMS` per dimension (as PyTorch). */
const SUMMARIZE_THRESHOLD = 1000;
const EDGE_ITEMS = 3;

/**
 * PyTorch-style text: `tensor([[1.0000, 2.0000],\n        [3.0000, 4.0000]], dtype=float32)`.
 * Floats use 4 decimals, or scientific notation when the magnitudes span too much for that.
 */
export function formatArray(data: TypedArray, shape: Shape, dtype: DType, device: string): string {
  const summarize = data.length > SUMMARIZE_THRESHOLD;
  const fmt = valueFormatter(data, dtype, summarize, shape);
  const prefix = "tensor(";
  const body = shape.length === 0 ? fmt(data[0]!) : block(data, shape, 0, 0, fmt, summarize, prefix.length + 1);
  const extras = [`dtype=${dtype}`];
  if (device !== "cpu") extras.push(`device=${device}`);
  if (data.length === 0) extras.unshift(`size=[${shape.join(", ")}]`);
  return `${prefix}${body}, ${extras.join(", ")})`;
}

function shownIndices(n: number, summarize: boolean): (number | null)[] {
  if (!summarize || n <= 2 * EDGE_ITEMS) return Array.from({ length: n }, (_, i) => i);
  return [
    ...Array.from({ length: EDGE_ITEMS }, (_, i) => i),
    null,
    ...Array.from({ length: EDGE_ITEMS }, (_, i) => n - EDGE_ITEMS + i),
  ];
}

function block(
  data: TypedArray,
  shape: Shape,
  dim: number,
  offset: number,
  fmt: (v: number) => string,
  summarize: boolean,
  indent: number,
): string {
  const n = shape[dim]!;
  const step = shape.slice(dim + 1).reduce((a, b) => a * b, 1);
  const idx = shownIndices(n, summarize);
  if (dim === shape.length - 1) {
    // PyTorch pads the ellipsis among numbers with a space: "2,  ..., 997".
    return "[" + idx.map((i) => (i === null ? " ..." : fmt(data[offset + i]!))).join(", ") + "]";
  }
  const sep = "," + "\n".repeat(shape.length - dim - 1) + " ".repeat(indent);
  const parts = idx.map((i) => (i === null ? "..." : block(data, shape, dim + 1, offset + i * step, fmt, summarize, indent + 1)));
  return "[" + parts.join(sep) + "]";
}

function valueFormatter(data: TypedArray, dtype: DType, summarize: boolean, shape: Shape): (v: number) => string {
  if (dtype === "bool") return (v) => (v ? " True" : "False");
  const sample = summarize ? sampleValues(data, shape) : Array.from(data);
  if (dtype === "int32") {
    const width = Math.max(1, ...sample.map((v) => String(v).length));
    return (v) => String(v).padStart(width);
  }
  const finite = sample.filter((v) => Number.isFinite(v));
  const absMax = Math.max(0, ...finite.map(Math.abs));
  const nonZero = finite.filter((v) => v !== 0).map(Math.abs);
  const absMin = nonZero.length ? Math.min(...nonZero) : 0;
  const sci = absMax >= 1e8 || (absMin > 0 && absMin < 1e-4) || (absMin > 0 && absMax / absMin > 1e7);
  const allInt = finite.every((v) => Number.isInteger(v));
  const one = (v: number): string => {
    if (Number.isNaN(v)) return "nan";
    if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
    if (sci) return v.toExponential(4).replace(/e([+-])(\d)$/, "e$10$2");
    if (allInt && absMax < 1e8) return `${v.toFixed(0)}.`;
    return v.toFixed(4);
  };
  const width = Math.max(1, ...sample.map((v) => one(v).length));
  return (v) => one(v).padStart(width);
}

/** The values a summarized print shows, so the column width is computed from them only. */
function sampleValues(data: TypedArray, shape: Shape): number[] {
  const out: number[] = [];
  const walk = (dim: number, offset: number) => {
    if (dim === shape.length) {
      out.push(data[offset]!);
      return;
    }
    const step = shape.slice(dim + 1).reduce((a, b) => a * b, 1);
    for (const i of shownIndices(shape[dim]!, true)) if (i !== null) walk(dim + 1, offset + i * step);
  };
  walk(0, 0);
  return out;
}

// Elementwise float32 ops for the CPU backend. When every operand is a view into the kernels' memory the
// SIMD kernel runs in place; otherwise a plain loop runs, because copying into the memory and back would
// cost more than the arithmetic.
import { activeKernels } from "./runtime.ts";
import { addressInMemory } from "./scratch.ts";
import { ShapeError } from "../../errors.ts";

function sameLength(op: string, ...arrays: Float32Array[]): number {
  const n = arrays[0]!.length;
  for (const a of arrays) {
    if (a.length !== n) {
      throw new ShapeError(
        `${op}: operands have lengths ${
          arrays.map((x) => x.length).join(", ")
        }`,
      );
    }
  }
  return n;
}

type BinaryName = "addF32" | "subF32" | "mulF32" | "reluBackwardF32";

function binary(
  name: BinaryName,
  a: Float32Array,
  b: Float32Array,
  out: Float32Array,
  fallback: (x: number, y: number) => number,
): void {
  const n = sameLength(name, a, b, out);
  const pa = addressInMemory(a),
    pb = addressInMemory(b),
    po = addressInMemory(out);
  if (pa !== undefined && pb !== undefined && po !== undefined) {
    activeKernels()[name](pa, pb, po, n);
    return;
  }
  for (let i = 0; i < n; i++) out[i] = fallback(a[i]!, b[i]!);
}

/** out = a + b (out may be a or b). */
export function addF32(
  a: Float32Array,
  b: Float32Array,
  out: Float32Array,
): void {
  binary("addF32", a, b, out, (x, y) => x + y);
}

/** out = a − b (out may be a or b). */
export function subF32(
  a: Float32Array,
  b: Float32Array,
  out: Float32Array,
): void {
  binary("subF32", a, b, out, (x, y) => x - y);
}

/** out = a · b (out may be a or b). */
export function mulF32(
  a: Float32Array,
  b: Float32Array,
  out: Float32Array,
): void {
  binary("mulF32", a, b, out, (x, y) => x * y);
}

/** dx = x > 0 ? dy : 0 (dx may be x or dy). */
export function reluBackwardF32(
  x: Float32Array,
  dy: Float32Array,
  dx: Float32Array,
): void {
  binary("reluBackwardF32", x, dy, dx, (v, g) => (v > 0 ? g : 0));
}

/** out = max(x, 0), NaN staying NaN (out may be x). */
export function reluF32(x: Float32Array, out: Float32Array): void {
  const n = sameLength("reluF32", x, out);
  const px = addressInMemory(x), po = addressInMemory(out);
  if (px !== undefined && po !== undefined) {
    activeKernels().reluF32(px, po, n);
    return;
  }
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    out[i] = v > 0 || Number.isNaN(v) ? v : 0;
  }
}

/** out[i, j] = x[i, j] + row[j] for a rows×row.length matrix x (out may be x): a bias add. */
export function addRowF32(
  x: Float32Array,
  row: Float32Array,
  out: Float32Array,
): void {
  sameLength("addRowF32", x, out);
  const cols = row.length;
  const rows = cols === 0 ? 0 : x.length / cols;
  if (!Number.isInteger(rows)) {
    throw new ShapeError(
      `addRowF32: length ${x.length} is not a multiple of the row length ${cols}`,
    );
  }
  const px = addressInMemory(x),
    pr = addressInMemory(row),
    po = addressInMemory(out);
  if (px !== undefined && pr !== undefined && po !== undefined) {
    activeKernels().addRowF32(px, pr, po, rows, cols);
    return;
  }
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      out[i * cols + j] = x[i * cols + j]! + row[j]!;
    }
  }
}

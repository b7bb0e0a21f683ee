import { GpuLimitError } from "./errors.ts";
import type { ParamWriter } from "./params.ts";

interface Layout {
  readonly strides: readonly number[];
  readonly offset: number;
}

/**
 * Merges dimensions that every view walks contiguously (and drops size-1 ones), so most kernels see rank 1 or 2
 * and a handful of pipelines serve every shape: dense, transposed, broadcast.
 */
export function collapse(shape: readonly number[], views: readonly Layout[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = views.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && views.every((v, k) => outStrides[k]![last] === v.strides[d]! * n)) {
      outShape[last]! *= n;
      views.forEach((v, k) => (outStrides[k]![last] = v.strides[d]!));
      continue;
    }
    outShape.push(n);
    views.forEach((v, k) => outStrides[k]!.push(v.strides[d]!));
  }
  if (outShape.length === 0) return { shape: [1], strides: views.map(() => [0]) };
  return { shape: outShape, strides: outStrides };
}

/**
 * Parameter block of a strided kernel over `shape` (already collapsed) with `views`: the element count, the
 * shape, then per view its offset and strides. `stridedOffsets` reads it back from word `base`.
 */
export function writeStrided(p: ParamWriter, shape: readonly number[], strides: readonly number[][], offsets: readonly number[]): void {
  const n = shape.reduce((a, b) => a * b, 1);
  p.u32(n).u32s(shape);
  strides.forEach((s, k) => p.u32(offsets[k]!).u32s(s));
}

export function stridedWords(rank: number, views: number): number {
  return 1 + rank + views * (rank + 1);
}

export function checkRank(op: string, rank: number, views: number, extra = 0): void {
  if (stridedWords(rank, views) + extra > 63) {
    throw new GpuLimitError(`webgpu.${op}: ${rank} dimensions that cannot be merged are more than this kernel supports`);
  }
}

/**
 * WGSL declaring `o0 … o{views-1}`: the element index of flat row-major position `i` in each view. Assumes
 * `n` (word 0) was checked by the caller.
 */
export function stridedOffsets(rank: number, views: number): string {
  const lines: string[] = [];
  const viewBase = (k: number) => 1 + rank + k * (rank + 1);
  for (let k = 0; k < views; k++) lines.push(`var o${k} = pu(${viewBase(k)}u);`);
  if (rank === 1) {
    for (let k = 0; k < views; k++) lines.push(`o${k} += i * pu(${viewBase(k) + 1}u);`);
    return lines.join("\n  ");
  }
  lines.push("var rem = i;");
  for (let d = rank - 1; d >= 0; d--) {
    if (d > 0) lines.push(`{ let s = pu(${1 + d}u); let c = rem % s; rem = rem / s;`);
    else lines.push("{ let c = rem;");
    for (let k = 0; k < views; k++) lines.push(`  o${k} += c * pu(${viewBase(k) + 1 + d}u);`);
    lines.push("}");
  }
  return lines.join("\n  ");
}

/**
 * Bindings, offset code and load expressions of an elementwise kernel's operands (name, WGSL type, constant?).
 * Operands read from buffers are the strided views, in order; a constant operand is the word after the strided
 * parameters (one word per constant, in operand order), so it needs no buffer.
 */
export function elementwiseOperands(
  operands: readonly [string, string, boolean][],
  rank: number,
): { bindings: [string, string][]; offsets: string; loads: string[] } {
  const viewed = operands.filter(([, , c]) => !c);
  let view = 0, constant = 0;
  const firstConstant = stridedWords(rank, viewed.length);
  const loads = operands.map(([name, type, isConst]) => {
    if (isConst) {
      const word = `pu(${firstConstant + constant++}u)`;
      return type === "u32" ? word : `bitcast<${type}>(${word})`;
    }
    return `${name}[o${view++}]`;
  });
  return {
    bindings: viewed.map(([name, type]) => [name, `array<${type}>`]),
    offsets: stridedOffsets(rank, viewed.length),
    loads,
  };
}

import { getBackend } from "../backend.ts";
import type { DType, TypedArray } from "../dtype.ts";
import { dtypeOfTyped } from "../dtype.ts";
import { DTypeError, fmtShape, ShapeError, ValueError } from "../errors.ts";
import { NDArray } from "../ndarray.ts";
import { blocksFor, defaultGenerator, type Generator } from "../random.ts";
import { checkShape, type Shape, sizeOf } from "../shape.ts";

/** Where and as what a new array is created. */
export interface CreateOptions {
  /** Element type (each function documents its default). */
  dtype?: DType;
  /** Defaults to `"cpu"`. */
  device?: string;
}

/** Options of the random creation functions. */
export interface RandomOptions extends CreateOptions {
  /** Defaults to the default generator (`manualSeed` sets it). */
  generator?: Generator;
}

/** A number, a boolean, or (rectangular) nested arrays of them. */
export type Nested = number | boolean | readonly Nested[];

/** Shape of nested JS arrays, checking that they are rectangular. */
function nestedShape(data: Nested): number[] {
  const shape: number[] = [];
  let level: Nested = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0]!;
  }
  const check = (v: Nested, dim: number, path: string): void => {
    if (dim === shape.length) {
      if (Array.isArray(v)) throw new ShapeError(`tensor: ragged nested array: element ${path} has more dimensions than the first`);
      if (typeof v !== "number" && typeof v !== "boolean") {
        throw new DTypeError(`tensor: element ${path} is ${typeof v}; only numbers and booleans are allowed`);
      }
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[dim]) {
      throw new ShapeError(
        `tensor: ragged nested array: element ${path || "[]"} has ${Array.isArray(v) ? `length ${v.length}` : "no array"}, expected length ${shape[dim]}`,
      );
    }
    v.forEach((x, i) => check(x, dim + 1, `${path}[${i}]`));
  };
  check(data, 0, "");
  return shape;
}

function flattenNested(data: Nested, out: number[]): void {
  if (Array.isArray(data)) for (const v of data) flattenNested(v, out);
  else out.push(typeof data === "boolean" ? (data ? 1 : 0) : (data as number));
}

function hasBool(data: Nested): boolean {
  return Array.isArray(data) ? data.some(hasBool) : typeof data === "boolean";
}

/**
 * An array from nested JS arrays, a number, or a typed array (then `shape` says how to view it; default 1-D).
 * dtype, as PyTorch infers it: booleans → bool, integers → int32, other numbers → float32; a typed array keeps
 * its own (Uint8Array → bool).
 */
export function tensor(data: Nested | TypedArray, options: CreateOptions & { shape?: Shape } = {}): NDArray {
  const backend = getBackend(options.device ?? "cpu");
  if (ArrayBuffer.isView(data)) {
    const typed = data as TypedArray;
    const shape = options.shape ?? [typed.length];
    checkShape("tensor", shape);
    if (sizeOf(shape) !== typed.length) {
      throw new ShapeError(`tensor: shape ${fmtShape(shape)} needs ${sizeOf(shape)} values, the data has ${typed.length}`);
    }
    return new NDArray(backend.upload(typed, options.dtype ?? dtypeOfTyped(typed)), shape);
  }
  const shape = nestedShape(data);
  const flat: number[] = [];
  flattenNested(data, flat);
  const dtype = options.dtype ?? (hasBool(data) ? "bool" : flat.every(Number.isInteger) && flat.length > 0 ? "int32" : "float32");
  const finalShape = options.shape ?? shape;
  if (sizeOf(finalShape) !== flat.length) {
    throw new ShapeError(`tensor: shape ${fmtShape(finalShape)} needs ${sizeOf(finalShape)} values, the data has ${flat.length}`);
  }
  return new NDArray(backend.upload(flat, dtype), finalShape);
}

/** An array of `shape` with every element `value` (float32 unless `dtype` says otherwise). */
export function full(shape: Shape, value: number, options: CreateOptions = {}): NDArray {
  checkShape("full", shape);
  const dtype = options.dtype ?? "float32";
  return new NDArray(getBackend(options.device ?? "cpu").full(dtype, sizeOf(shape), value), shape);
}

/** An array of zeros (float32 by default). */
export const zeros = (shape: Shape, options: CreateOptions = {}): NDArray => full(shape, 0, options);
/** An array of ones (float32 by default). */
export const ones = (shape: Shape, options: CreateOptions = {}): NDArray => full(shape, 1, options);

const like = (x: NDArray, options: CreateOptions) => ({ dtype: options.dtype ?? x.dtype, device: options.device ?? x.device });
/** Zeros with the shape, dtype and device of `x` (each may be overridden). */
export const zerosLike = (x: NDArray, options: CreateOptions = {}): NDArray => full(x.shape, 0, like(x, options));
/** Ones with the shape, dtype and device of `x` (each may be overridden). */
export const onesLike = (x: NDArray, options: CreateOptions = {}): NDArray => full(x.shape, 1, like(x, options));
/** `value` everywhere, with the shape, dtype and device of `x` (each may be overridden). */
export const fullLike = (x: NDArray, value: number, options: CreateOptions = {}): NDArray => full(x.shape, value, like(x, options));

/**
 * `arange(end)` or `arange(start, end, step)`: start, start + step, … up to but excluding end.
 * int32 when all arguments are integers, else float32.
 */
export function arange(start: number, end?: number, step = 1, options: CreateOptions = {}): NDArray {
  if (end === undefined) [start, end] = [0, start];
  if (step === 0 || !Number.isFinite(step)) throw new ValueError(`arange: step must be a non-zero finite number, got ${step}`);
  const n = Math.max(0, Math.ceil((end - start) / step));
  const dtype = options.dtype ?? ([start, end, step].every(Number.isInteger) ? "int32" : "float32");
  const values = Array.from({ length: n }, (_, i) => start + i * step);
  return new NDArray(getBackend(options.device ?? "cpu").upload(values, dtype), [n]);
}

/** `steps` evenly spaced values from start to end inclusive. */
export function linspace(start: number, end: number, steps: number, options: CreateOptions = {}): NDArray {
  if (!Number.isInteger(steps) || steps < 0) throw new ValueError(`linspace: steps must be a non-negative integer, got ${steps}`);
  const values = Array.from({ length: steps }, (_, i) => (steps === 1 ? start : start + ((end - start) * i) / (steps - 1)));
  return new NDArray(getBackend(options.device ?? "cpu").upload(values, options.dtype ?? "float32"), [steps]);
}

/** Identity matrix n × m (m defaults to n). */
export function eye(n: number, m = n, options: CreateOptions = {}): NDArray {
  checkShape("eye", [n, m]);
  const values = new Array<number>(n * m).fill(0);
  for (let i = 0; i < Math.min(n, m); i++) values[i * m + i] = 1;
  return new NDArray(getBackend(options.device ?? "cpu").upload(values, options.dtype ?? "float32"), [n, m]);
}

function randomFloat(dist: "uniform" | "normal", shape: Shape, options: RandomOptions): NDArray {
  checkShape(dist === "uniform" ? "rand" : "randn", shape);
  const dtype = options.dtype ?? "float32";
  if (dtype !== "float32" && dtype !== "float64") {
    throw new DTypeError(`${dist === "uniform" ? "rand" : "randn"}: dtype must be float32 or float64, got ${dtype}`);
  }
  const gen = options.generator ?? defaultGenerator();
  const size = sizeOf(shape);
  const counter = gen.take(blocksFor(dtype, size));
  const backend = getBackend(options.device ?? "cpu");
  return new NDArray(backend.random(dist, dtype, size, gen.key, counter), shape);
}

/** Uniform values in [0, 1). */
export const rand = (shape: Shape, options: RandomOptions = {}): NDArray => randomFloat("uniform", shape, options);
/** Standard normal values (Box–Muller on the Philox stream). */
export const randn = (shape: Shape, options: RandomOptions = {}): NDArray => randomFloat("normal", shape, options);

/** Uniform values in [low, high). */
export function uniform(shape: Shape, low: number, high: number, options: RandomOptions = {}): NDArray {
  const u = rand(shape, options);
  const scaled = u.mul(high - low);
  const out = scaled.add(low);
  u.dispose();
  scaled.dispose();
  return out;
}

/** Normal values with the given mean and standard deviation. */
export function normal(shape: Shape, mean: number, std: number, options: RandomOptions = {}): NDArray {
  const z = randn(shape, options);
  const scaled = z.mul(std);
  const out = scaled.add(mean);
  z.dispose();
  scaled.dispose();
  return out;
}

/** Random integers in [low, high), int32, one 32-bit word of the stream each (bias below 2^-32 · range). */
export function randint(low: number, high: number, shape: Shape, options: RandomOptions = {}): NDArray {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new ValueError(`randint: needs integers low < high, got ${low} and ${high}`);
  }
  checkShape("randint", shape);
  const gen = options.generator ?? defaultGenerator();
  const words = gen.nextWords(sizeOf(shape));
  const range = high - low;
  const values = Array.from(words, (w) => low + Math.floor((w / 0x100000000) * range));
  return new NDArray(getBackend(options.device ?? "cpu").upload(values, options.dtype ?? "int32"), shape);
}

/** A random permutation of 0 … n − 1 (Fisher–Yates driven by the generator), int32. */
export function randperm(n: number, options: RandomOptions = {}): NDArray {
  if (!Number.isInteger(n) || n < 0) throw new ValueError(`randperm: n must be a non-negative integer, got ${n}`);
  const gen = options.generator ?? defaultGenerator();
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  const words = gen.nextWords(n);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor((words[i]! / 0x100000000) * (i + 1));
    const t = perm[i]!;
    perm[i] = perm[j]!;
    perm[j] = t;
  }
  return new NDArray(getBackend(options.device ?? "cpu").upload(perm, options.dtype ?? "int32"), [n]);
}

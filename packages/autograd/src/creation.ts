import * as T from "@backprop/tensor";
import type { CreateOptions, NDArray, RandomOptions, Shape, TypedArray } from "@backprop/tensor";
import { Tensor } from "./tensor.ts";

/** Creation options: dtype and device (as `@backprop/tensor`), and whether the new leaf requires a gradient. */
export interface TensorOptions extends CreateOptions {
  /** Whether the new leaf records operations for a gradient (float dtypes only; default false). */
  requiresGrad?: boolean;
}

/** Nested JS arrays of numbers (or booleans), as `tensor` accepts them. */
export type NestedArray = number | boolean | readonly NestedArray[];
const wrap = (a: NDArray, o: { requiresGrad?: boolean }) => new Tensor(a, { requiresGrad: o.requiresGrad ?? false });

/** A tensor from nested arrays, a typed array (with `shape`), or an existing `NDArray`. */
export function tensor(data: NestedArray | TypedArray | NDArray, options: TensorOptions & { shape?: Shape } = {}): Tensor {
  if (data instanceof T.NDArray) {
    let a = data;
    if (options.dtype && options.dtype !== a.dtype) a = a.cast(options.dtype);
    if (options.device && options.device !== a.device) a = a.to(options.device);
    return wrap(a, options);
  }
  return wrap(T.tensor(data, options), options);
}

/** A tensor of zeros. */
export const zeros = (shape: Shape, o: TensorOptions = {}): Tensor => wrap(T.zeros(shape, o), o);
/** A tensor of ones. */
export const ones = (shape: Shape, o: TensorOptions = {}): Tensor => wrap(T.ones(shape, o), o);
/** A tensor filled with `value`. */
export const full = (shape: Shape, value: number, o: TensorOptions = {}): Tensor => wrap(T.full(shape, value, o), o);
/** Zeros with `x`'s shape (and dtype and device unless given). */
export const zerosLike = (x: Tensor, o: TensorOptions = {}): Tensor => wrap(T.zerosLike(x.value, o), o);
/** Ones with `x`'s shape (and dtype and device unless given). */
export const onesLike = (x: Tensor, o: TensorOptions = {}): Tensor => wrap(T.onesLike(x.value, o), o);
/** Values `start, start + step, …` below `end` (`arange(n)` is 0 … n − 1). */
export const arange = (start: number, end?: number, step?: number, o: TensorOptions = {}): Tensor =>
  wrap(T.arange(start, end, step, o), o);
/** `steps` evenly spaced values from `start` to `end` inclusive. */
export const linspace = (start: number, end: number, steps: number, o: TensorOptions = {}): Tensor =>
  wrap(T.linspace(start, end, steps, o), o);
/** An n × m identity matrix. */
export const eye = (n: number, m?: number, o: TensorOptions = {}): Tensor => wrap(T.eye(n, m, o), o);
/** Uniform values in [0, 1), from `generator` (or the default one). */
export const rand = (shape: Shape, o: RandomOptions & TensorOptions = {}): Tensor => wrap(T.rand(shape, o), o);
/** Standard normal values, from `generator` (or the default one). */
export const randn = (shape: Shape, o: RandomOptions & TensorOptions = {}): Tensor => wrap(T.randn(shape, o), o);
/** Integers in [low, high) (int32; never requires a gradient). */
export const randint = (low: number, high: number, shape: Shape, o: RandomOptions = {}): Tensor =>
  new Tensor(T.randint(low, high, shape, o));
/** A random permutation of 0 … n − 1 (int32). */
export const randperm = (n: number, o: RandomOptions = {}): Tensor => new Tensor(T.randperm(n, o));

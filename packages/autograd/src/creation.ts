import * as T from "@backprop/tensor";
import type { CreateOptions, NDArray, RandomOptions, Shape, TypedArray } from "@backprop/tensor";
import { Tensor } from "./tensor.ts";

export interface TensorOptions extends CreateOptions {
  requiresGrad?: boolean;
}

type Nested = number | boolean | readonly Nested[];
const wrap = (a: NDArray, o: { requiresGrad?: boolean }) => new Tensor(a, { requiresGrad: o.requiresGrad ?? false });

/** A tensor from nested arrays, a typed array (with `shape`), or an existing `NDArray`. */
export function tensor(data: Nested | TypedArray | NDArray, options: TensorOptions & { shape?: Shape } = {}): Tensor {
  if (data instanceof T.NDArray) {
    let a = data;
    if (options.dtype && options.dtype !== a.dtype) a = a.cast(options.dtype);
    if (options.device && options.device !== a.device) a = a.to(options.device);
    return wrap(a, options);
  }
  return wrap(T.tensor(data, options), options);
}

export const zeros = (shape: Shape, o: TensorOptions = {}): Tensor => wrap(T.zeros(shape, o), o);
export const ones = (shape: Shape, o: TensorOptions = {}): Tensor => wrap(T.ones(shape, o), o);
export const full = (shape: Shape, value: number, o: TensorOptions = {}): Tensor => wrap(T.full(shape, value, o), o);
export const zerosLike = (x: Tensor, o: TensorOptions = {}): Tensor => wrap(T.zerosLike(x.value, o), o);
export const onesLike = (x: Tensor, o: TensorOptions = {}): Tensor => wrap(T.onesLike(x.value, o), o);
export const arange = (start: number, end?: number, step?: number, o: TensorOptions = {}): Tensor =>
  wrap(T.arange(start, end, step, o), o);
export const linspace = (start: number, end: number, steps: number, o: TensorOptions = {}): Tensor =>
  wrap(T.linspace(start, end, steps, o), o);
export const eye = (n: number, m?: number, o: TensorOptions = {}): Tensor => wrap(T.eye(n, m, o), o);
export const rand = (shape: Shape, o: RandomOptions & TensorOptions = {}): Tensor => wrap(T.rand(shape, o), o);
export const randn = (shape: Shape, o: RandomOptions & TensorOptions = {}): Tensor => wrap(T.randn(shape, o), o);
export const randint = (low: number, high: number, shape: Shape, o: RandomOptions = {}): Tensor =>
  new Tensor(T.randint(low, high, shape, o));
export const randperm = (n: number, o: RandomOptions = {}): Tensor => new Tensor(T.randperm(n, o));

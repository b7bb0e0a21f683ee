import * as T from "@backprop/tensor";
import type { DType, NDArray } from "@backprop/tensor";
import { record } from "../record.ts";
import type { Tensor } from "../tensor.ts";
import { unbroadcast } from "../unbroadcast.ts";

/** A zero array of `shape` with `g` written into the window `pick` selects (the adjoint of taking a view). */
function embed(g: NDArray, shape: readonly number[], pick: (z: NDArray) => NDArray): NDArray {
  const z = T.zeros(shape, { dtype: g.dtype, device: g.device });
  const window = pick(z);
  z.backend.copy(g, window);
  window.dispose();
  return z;
}

/**
 * Same elements in a new shape (one size may be -1); a view when the layout allows. The gradient is reshaped back.
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  return record("reshape", [x], x.value.reshape(shape), (g) => [g.reshape(x.shape)]);
}

/** Reorders the dimensions; the gradient is permuted back. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  const out = x.value.permute(dims);
  const norm = dims.map((d) => (d < 0 ? d + x.ndim : d));
  const inverse = new Array<number>(norm.length);
  norm.forEach((d, i) => (inverse[d] = i));
  return record("permute", [x], out, (g) => [g.permute(inverse)]);
}

/** Swaps two dimensions (default the last two). */
export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  return record("transpose", [x], x.value.transpose(dim0, dim1), (g) => [g.transpose(dim0, dim1)]);
}

/** Elements `start … start + length − 1` along `dim` (a view); the gradient is zero outside them. */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  return record("narrow", [x], x.value.narrow(dim, start, length), (g) => [embed(g, x.shape, (z) => z.narrow(dim, start, length))]);
}

/** Python-style `start:end:step` along `dim` (a view); the gradient is zero where the slice skips. */
export function slice(x: Tensor, dim: number, start?: number, end?: number, step = 1): Tensor {
  return record("slice", [x], x.value.slice(dim, start, end, step), (g) => [embed(g, x.shape, (z) => z.slice(dim, start, end, step))]);
}

/** Index `index` along `dim`, dropping that dimension (a view). */
export function select(x: Tensor, dim: number, index: number): Tensor {
  return record("select", [x], x.value.select(dim, index), (g) => [embed(g, x.shape, (z) => z.select(dim, index))]);
}

/** Broadcasts size-1 dimensions to `shape` (a view; -1 keeps a size); the gradient is summed back. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  return record("expand", [x], x.value.expand(shape), (g) => [unbroadcast(g, x.shape)]);
}

/** Removes size-1 dimensions (all, or the given ones). */
export function squeeze(x: Tensor, dim?: number | readonly number[]): Tensor {
  return record("squeeze", [x], x.value.squeeze(dim), (g) => [g.reshape(x.shape)]);
}

/** Inserts a size-1 dimension at `dim`. */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  return record("unsqueeze", [x], x.value.unsqueeze(dim), (g) => [g.reshape(x.shape)]);
}

/** Merges dimensions `startDim … endDim` into one. */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  return record("flatten", [x], x.value.flatten(startDim, endDim), (g) => [g.reshape(x.shape)]);
}

/** The same values laid out contiguously (a copy only when needed); recorded, so gradients pass through. */
export function contiguous(x: Tensor): Tensor {
  const out = x.value.contiguous();
  if (out === x.value && !x.requiresGrad) return x;
  return record("contiguous", [x], out === x.value ? x.value.reshape(x.shape) : out, (g) => [g]);
}

/** A contiguous copy; gradients pass through. */
export function clone(x: Tensor): Tensor {
  return record("clone", [x], x.value.clone(), (g) => [g]);
}

/** dtype conversion; the gradient is converted back (only float↔float conversions carry one). */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (dtype === x.dtype) return x;
  return record("cast", [x], x.value.cast(dtype), (g) => [g.cast(x.dtype)]);
}

/** Device move; the gradient moves back to the source device. */
export function to(x: Tensor, device: string): Tensor {
  if (device === x.device) return x;
  return record("to", [x], x.value.to(device), (g) => [g.to(x.device)]);
}

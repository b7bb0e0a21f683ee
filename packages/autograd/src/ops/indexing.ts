import * as T from "@backprop/tensor";
import type { NDArray } from "@backprop/tensor";
import { record } from "../record.ts";
import { Tensor } from "../tensor.ts";

const indexArray = (i: Tensor | NDArray): NDArray => (i instanceof Tensor ? i.value : i);

/** `torch.gather`; the gradient scatters back (adding where an index repeats). */
export function gather(x: Tensor, dim: number, index: Tensor | NDArray): Tensor {
  const idx = indexArray(index);
  return record("gather", [x], T.gather(x.value, dim, idx), (g) => [T.scatterAdd(T.zerosLike(x.value), dim, idx, g)]);
}

/** `torch.index_select`; the gradient adds back along the indexed rows. */
export function indexSelect(x: Tensor, dim: number, index: Tensor | NDArray): Tensor {
  const idx = indexArray(index);
  return record("indexSelect", [x], T.indexSelect(x.value, dim, idx), (g) => [T.indexAdd(T.zerosLike(x.value), dim, idx, g)]);
}

/** `torch.scatter_add`: gradients flow to `input` unchanged and to `src` gathered. */
export function scatterAdd(input: Tensor, dim: number, index: Tensor | NDArray, src: Tensor): Tensor {
  const idx = indexArray(index);
  return record("scatterAdd", [input, src], T.scatterAdd(input.value, dim, idx, src.value), (g) => [g, T.gather(g, dim, idx)]);
}

/** `torch.index_add`: gradients flow to `input` unchanged and to `src` selected. */
export function indexAdd(input: Tensor, dim: number, index: Tensor | NDArray, src: Tensor): Tensor {
  const idx = indexArray(index);
  return record("indexAdd", [input, src], T.indexAdd(input.value, dim, idx, src.value), (g) => [g, T.indexSelect(g, dim, idx)]);
}

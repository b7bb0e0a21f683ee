import * as T from "@backprop/tensor";
import { record } from "../record.ts";
import type { Tensor } from "../tensor.ts";
import { narrow, unsqueeze } from "./views.ts";

/** Joins along `dim`; each input gets its slice of the gradient. */
export function concat(xs: readonly Tensor[], dim = 0): Tensor {
  const out = T.concat(xs.map((x) => x.value), dim);
  const d = dim < 0 ? dim + out.ndim : dim;
  return record("concat", xs, out, (g) => {
    let at = 0;
    return xs.map((x) => {
      const part = x.requiresGrad ? g.narrow(d, at, x.shape[d]!) : null;
      at += x.shape[d]!;
      return part;
    });
  });
}

/** Joins same-shaped tensors along a new dimension `dim`; each gets its slice of the gradient. */
export function stack(xs: readonly Tensor[], dim = 0): Tensor {
  if (xs.length === 0) throw new T.ValueError("stack: needs at least one tensor");
  const d = dim < 0 ? dim + xs[0]!.ndim + 1 : dim;
  return concat(xs.map((x) => unsqueeze(x, d)), d);
}

/** Views of `size` along `dim` (or of the given sizes), each differentiable. */
export function split(x: Tensor, sizes: number | readonly number[], dim = 0): Tensor[] {
  const d = dim < 0 ? dim + x.ndim : dim;
  const parts = T.split(x.value, sizes, d).map((p) => p.shape[d]!);
  let at = 0;
  return parts.map((len) => {
    const t = narrow(x, d, at, len);
    at += len;
    return t;
  });
}

import { Tensor } from "@backprop/autograd";
import { type Generator, rand, ValueError } from "@backprop/tensor";

/**
 * Zeroes each element with probability `p` and scales the rest by 1 / (1 − p), so the expected value is
 * unchanged (inverted dropout, as PyTorch). The identity when `training` is false or p = 0.
 */
export function dropout(x: Tensor, p = 0.5, training = true, options: { generator?: Generator } = {}): Tensor {
  if (!(p >= 0 && p <= 1)) throw new ValueError(`dropout: p must be in [0, 1], got ${p}`);
  if (!training || p === 0) return x;
  if (p === 1) return x.mul(0);
  if (x.dtype !== "float32" && x.dtype !== "float64") {
    throw new ValueError(`dropout: needs a float tensor, got ${x.dtype}`);
  }
  const u = rand(x.shape, { dtype: x.dtype, device: x.device, generator: options.generator });
  const keepMask = u.ge(p);
  const scale = keepMask.cast(x.dtype).mul(1 / (1 - p));
  u.dispose();
  keepMask.dispose();
  return x.mul(new Tensor(scale));
}

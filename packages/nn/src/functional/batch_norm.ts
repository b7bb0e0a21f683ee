import { isGradEnabled, noGrad, Tensor } from "@backprop/autograd";
import { E, fused, isFloat, type NDArray, ShapeError, tidy, ValueError } from "@backprop/tensor";
import { fmtShape } from "../util.ts";
import { BatchNormFused } from "./batch_norm_fused.ts";

export interface BatchNormOptions {
  /** γ, one per channel (none: 1). */
  weight?: Tensor | null;
  /** β, one per channel (none: 0). */
  bias?: Tensor | null;
  /** Normalise with the batch's statistics (and update the running ones) instead of the running ones. */
  training?: boolean;
  /**
   * Weight of the new batch in the running averages (default 0.1); a 0-d array on the input's device when the
   * weight is computed there (a cumulative average's 1/count, which reading back would stall a GPU).
   */
  momentum?: number | NDArray;
  eps?: number;
  /**
   * With the batch's statistics, normalise (and backpropagate) in fused passes (default) or through the composed
   * graph of whole-array ops (false; for tests and benchmarks). The forward values are the same bit for bit.
   */
  fused?: boolean;
}

/** Writes `src` into `dst`'s memory: running statistics are updated in place, as PyTorch does. */
function overwrite(dst: NDArray, src: NDArray): void {
  dst.backend.copy(src, dst);
  src.dispose();
}

/** Whether the output must record a graph: grad mode is on and some operand requires a gradient. */
function needsGraph(...xs: (Tensor | null)[]): boolean {
  return isGradEnabled() && xs.some((x) => x?.requiresGrad);
}

/**
 * Evaluation with running statistics and no graph (every operand of the input's dtype), as one fused pass:
 * y = ((x − mean) · rstd) · γ + β, with rstd = 1 / √(var + eps) computed per channel by the ops below, so the
 * result equals the unfused chain's bit for bit.
 */
function normalizeFused(
  x: NDArray,
  runningMean: NDArray,
  runningVar: NDArray,
  weight: NDArray | null,
  bias: NDArray | null,
  paramShape: number[],
  eps: number,
): NDArray {
  return tidy(() => {
    const perChannel = (a: NDArray) => a.reshape(paramShape);
    const rstd = perChannel(runningVar.add(eps).rsqrt());
    const inputs = [x, perChannel(runningMean), rstd];
    let y = E.mul(E.sub(E.input(0), E.input(1)), E.input(2));
    if (weight) y = E.mul(y, E.input(inputs.push(perChannel(weight)) - 1));
    if (bias) y = E.add(y, E.input(inputs.push(perChannel(bias)) - 1));
    return fused([y], inputs)[0]!;
  });
}

/**
 * Batch normalisation over channel dimension 1 of [N, C] or [N, C, …] input (PyTorch's `F.batch_norm`).
 * In training, each channel is normalised with the batch mean and biased variance, and `runningMean` /
 * `runningVar` (if given) move towards the batch mean and the unbiased variance by `momentum`, in place.
 * Otherwise the running statistics normalise (the batch's are used when none are given).
 */
export function batchNorm(
  input: Tensor,
  runningMean: NDArray | null,
  runningVar: NDArray | null,
  options: BatchNormOptions = {},
): Tensor {
  const { weight = null, bias = null, training = false, momentum = 0.1, eps = 1e-5 } = options;
  if (input.ndim < 2) throw new ShapeError(`batchNorm: input must be [N, C, …], got ${fmtShape(input.shape)}`);
  const channels = input.shape[1]!;
  for (const [name, a] of [["runningMean", runningMean], ["runningVar", runningVar], ["weight", weight], ["bias", bias]] as const) {
    if (a && (a.shape.length !== 1 || a.shape[0] !== channels)) {
      throw new ShapeError(`batchNorm: ${name} must have shape [${channels}] for input ${fmtShape(input.shape)}, got ${fmtShape(a.shape)}`);
    }
  }
  const paramShape = input.shape.map((d, i) => (i === 1 ? d : 1));
  const dims = input.shape.map((_, i) => i).filter((i) => i !== 1);
  const useBatch = training || !runningMean || !runningVar;
  let xhat: Tensor | undefined;
  let y: Tensor | undefined;
  if (useBatch) {
    const n = input.size / Math.max(1, channels);
    if (training && n <= 1) {
      throw new ValueError(
        `batchNorm: expected more than 1 value per channel when training, got input ${fmtShape(input.shape)}`,
      );
    }
    const fusedPath = options.fused !== false && isFloat(input.dtype) &&
      [weight?.value, bias?.value].every((a) => !a || a.dtype === input.dtype);
    let meanValue: NDArray, varianceValue: NDArray;
    if (fusedPath) {
      // The statistics as the composed graph computes them, without recording; the rest is fused passes.
      meanValue = input.value.mean(dims, true);
      const centered = input.value.sub(meanValue);
      const squared = centered.square();
      varianceValue = squared.mean(dims, true);
      centered.dispose();
      squared.dispose();
      const rstd = varianceValue.add(eps).rsqrt();
      y = BatchNormFused.apply(input, weight, bias, meanValue, rstd);
    } else {
      const mean = input.mean(dims, true);
      const centered = input.sub(mean);
      const variance = centered.square().mean(dims, true);
      xhat = centered.mul(variance.add(eps).rsqrt());
      [meanValue, varianceValue] = [mean.value, variance.value];
    }
    if (training && runningMean && runningVar) {
      noGrad(() => {
        const m = meanValue.reshape([channels]);
        const v = varianceValue.reshape([channels]);
        const unbiased = v.mul(n / (n - 1));
        const keep = typeof momentum === "number" ? 1 - momentum : momentum.neg().add(1);
        const keptMean = runningMean.mul(keep), newMean = m.mul(momentum);
        const keptVar = runningVar.mul(keep), newVar = unbiased.mul(momentum);
        overwrite(runningMean, keptMean.add(newMean));
        overwrite(runningVar, keptVar.add(newVar));
        for (const a of [m, v, unbiased, keptMean, newMean, keptVar, newVar]) a.dispose();
        if (typeof keep !== "number") keep.dispose();
      });
    }
  } else if (
    !needsGraph(input, weight, bias) && isFloat(input.dtype) &&
    [runningMean, runningVar, weight?.value, bias?.value].every((a) => !a || a.dtype === input.dtype)
  ) {
    return new Tensor(normalizeFused(input.value, runningMean!, runningVar!, weight?.value ?? null, bias?.value ?? null, paramShape, eps));
  } else {
    const mean = new Tensor(runningMean!.reshape(paramShape));
    const variance = new Tensor(runningVar!.reshape(paramShape));
    xhat = input.sub(mean).mul(variance.add(eps).rsqrt());
  }
  if (y) return y;
  let out = xhat!;
  if (weight) out = out.mul(weight.reshape(paramShape));
  if (bias) out = out.add(bias.reshape(paramShape));
  return out;
}

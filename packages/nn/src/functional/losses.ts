import { Tensor } from "@backprop/autograd";
import { DTypeError, type NDArray, ShapeError, ValueError } from "@backprop/tensor";
import { arrayOf, fmtShape } from "../util.ts";
import { CrossEntropyFused } from "./cross_entropy_fused.ts";

/** How per-element losses are combined: averaged, summed, or returned as they are. */
export type Reduction = "mean" | "sum" | "none";

export interface LossOptions {
  reduction?: Reduction;
}

function checkReduction(reduction: Reduction, op: string): void {
  if (reduction !== "mean" && reduction !== "sum" && reduction !== "none") {
    throw new ValueError(`${op}: reduction must be "mean", "sum" or "none", got ${JSON.stringify(reduction)}`);
  }
}

function reduce(loss: Tensor, reduction: Reduction, op: string): Tensor {
  checkReduction(reduction, op);
  switch (reduction) {
    case "mean":
      return loss.mean();
    case "sum":
      return loss.sum();
    case "none":
      return loss;
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Shape [N, …] of class-index targets for input [N, C, …] (the class dimension removed). */
function indexTargetShape(input: Tensor): number[] {
  return input.shape.filter((_, i) => i !== 1);
}

/**
 * Negative log-likelihood of class indices under log-probabilities `input` [N, C] or [N, C, d₁, …] (class
 * dimension 1), as PyTorch's `F.nll_loss`. `target` holds int32 class indices of shape [N] or [N, d₁, …].
 */
export function nllLoss(input: Tensor, target: Tensor | NDArray, options: LossOptions = {}): Tensor {
  const reduction = options.reduction ?? "mean";
  const t = arrayOf(target);
  if (t.dtype !== "int32") {
    throw new DTypeError(`nllLoss: the target must hold int32 class indices, got ${t.dtype} ${fmtShape(t.shape)}`);
  }
  if (input.ndim < 2) throw new ShapeError(`nllLoss: input must be [N, C, …], got ${fmtShape(input.shape)}`);
  if (!sameShape(t.shape, indexTargetShape(input))) {
    throw new ShapeError(
      `nllLoss: input ${fmtShape(input.shape)} needs class-index targets of shape ${fmtShape(indexTargetShape(input))}, ` +
        `got ${fmtShape(t.shape)}`,
    );
  }
  // The index view stays alive: gather's backward uses it.
  const picked = input.gather(1, t.unsqueeze(1)).squeeze(1);
  return reduce(picked.neg(), reduction, "nllLoss");
}

export interface CrossEntropyOptions extends LossOptions {
  /**
   * Compute the loss as two reductions and fused passes, recorded as one graph node whose backward is one fused
   * pass (the default where the input's backend has fused kernels), or through the composed graph
   * (log-softmax, gather or multiply, sum, reduction). Both give the same values: bit for bit in float64
   * with class indices (float32 within the kernels' rounding; probability targets' gradients within rounding).
   */
  fused?: boolean;
}

/**
 * Cross-entropy between logits `input` [N, C] (or [N, C, d₁, …], or a single [C]) and either int32 class
 * indices [N] (or [N, d₁, …]) or float class probabilities (one-hot or soft) of the input's shape, as PyTorch's
 * `F.cross_entropy`. Computed from the row max and log Σ exp(x − max) (fused passes by default, see
 * `CrossEntropyOptions.fused`), so large logits do not overflow. With probability targets
 * the mean is over the batch (and any extra dimensions), as PyTorch does.
 */
export function crossEntropy(input: Tensor, target: Tensor | NDArray, options: CrossEntropyOptions = {}): Tensor {
  const reduction = options.reduction ?? "mean";
  const t = arrayOf(target);
  if (input.ndim === 1) {
    const batched = t.dtype === "int32" ? t.reshape([1]) : t.unsqueeze(0);
    const loss = crossEntropy(input.unsqueeze(0), batched, { reduction, fused: options.fused });
    return reduction === "none" ? loss.squeeze(0) : loss;
  }
  if (input.ndim < 2) throw new ShapeError(`crossEntropy: input must be [N, C, …], got ${fmtShape(input.shape)}`);
  checkCrossEntropyTarget(input, t);
  checkReduction(reduction, "crossEntropy");
  const floatInput = input.dtype === "float32" || input.dtype === "float64";
  // A target that wants its own gradient (soft labels being learned) goes through the composed graph.
  const targetNeedsGrad = target instanceof Tensor && target.requiresGrad;
  const fusedPath = (options.fused ?? input.value.backend.fused !== undefined) && floatInput && input.size > 0 &&
    (t.dtype === "int32" || t.dtype === input.dtype) && !targetNeedsGrad;
  if (fusedPath) return CrossEntropyFused.apply(input, t, reduction);
  const logProbs = input.logSoftmax(1);
  if (t.dtype === "int32") return nllLoss(logProbs, t, { reduction });
  const perExample = logProbs.mul(target instanceof Tensor ? target : new Tensor(t)).sum(1).neg();
  return reduce(perExample, reduction, "crossEntropy");
}

/** Class indices of the input's shape without dimension 1, or float probabilities of the input's shape. */
function checkCrossEntropyTarget(input: Tensor, t: NDArray): void {
  if (t.dtype === "int32") {
    if (!sameShape(t.shape, indexTargetShape(input))) {
      throw new ShapeError(
        `crossEntropy: input ${fmtShape(input.shape)} needs class-index targets of shape ${fmtShape(indexTargetShape(input))}, ` +
          `got ${fmtShape(t.shape)}`,
      );
    }
    return;
  }
  if (t.dtype !== "float32" && t.dtype !== "float64") {
    throw new DTypeError(
      `crossEntropy: the target must be int32 class indices or float probabilities, got ${t.dtype} ${fmtShape(t.shape)}`,
    );
  }
  if (!sameShape(t.shape, input.shape)) {
    throw new ShapeError(
      `crossEntropy: probability targets must have the input's shape ${fmtShape(input.shape)}, got ${fmtShape(t.shape)} ` +
        `(class indices would be int32 of shape ${fmtShape(indexTargetShape(input))})`,
    );
  }
}

/** Squared error (input − target)², averaged or summed (PyTorch's `F.mse_loss`). Shapes must be equal. */
export function mseLoss(input: Tensor, target: Tensor | NDArray, options: LossOptions = {}): Tensor {
  const reduction = options.reduction ?? "mean";
  const t = target instanceof Tensor ? target : new Tensor(target);
  if (!sameShape(input.shape, t.shape)) {
    throw new ShapeError(`mseLoss: input ${fmtShape(input.shape)} and target ${fmtShape(t.shape)} must have the same shape`);
  }
  return reduce(input.sub(t).square(), reduction, "mseLoss");
}

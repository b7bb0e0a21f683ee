// Softmax cross-entropy as reductions and fused passes: the row max and Σ exp(x − max) are reductions, the
// per-sample loss is one pass over [N, 1, …], and the gradient is one pass over the logits — instead of the
// log-softmax, gather/multiply, sum, negation and reduction the composed graph records (each with its own
// whole-array backward). The log-probabilities are never stored: backward recomputes them from x, the row max
// and log Σ.
import { Function, type FunctionCtx, Tensor } from "@backprop/autograd";
import { arange, E, type Expr, fused, type NDArray } from "@backprop/tensor";
import type { Reduction } from "./losses.ts";

/**
 * log-softmax (x − m) − log s from log s computed once per row, in the composed graph's operation order (so
 * float64 results equal it bit for bit).
 */
const logProbOf = (x: Expr, m: Expr, logS: Expr): Expr => E.sub(E.sub(x, m), logS);

/** Disposes every array of `arrays` that is not one of `keep`. */
function disposeAll(arrays: readonly NDArray[], keep: readonly NDArray[] = []): void {
  for (const a of arrays) if (!keep.includes(a) && !a.isDisposed) a.dispose();
}

/** Combines per-sample losses as the composed graph does (the same NDArray reductions, so the same values). */
function reduceValue(perSample: NDArray, reduction: Reduction): NDArray {
  return reduction === "mean" ? perSample.mean() : reduction === "sum" ? perSample.sum() : perSample;
}

/**
 * Cross-entropy of logits `input` [N, C, …] (class dimension 1, float32 or float64) against `target`: int32
 * class indices [N, …] or probabilities of the input's shape and dtype. Arguments are checked by the caller.
 * Gradient, per element, with sc = −g (−g/n for the mean over n losses) spread over the class dimension:
 * indices: onehot·sc − softmax·sc (the composed graph's order); probabilities: (softmax·Σp − p)·(−sc).
 */
export class CrossEntropyFused extends Function {
  static override forward(ctx: FunctionCtx, input: Tensor, target: NDArray, reduction: Reduction): Tensor {
    const x = input.value;
    const m = x.max(1, true);
    const [e] = fused([E.exp(E.sub(E.input(0), E.input(1)))], [x, m]);
    const sum = e!.sum(1, true);
    const logS = sum.log();
    disposeAll([e!, sum]);
    let perSample: NDArray;
    if (target.dtype === "int32") {
      const index = target.unsqueeze(1);
      const picked = x.gather(1, index);
      const [loss] = fused([E.neg(logProbOf(E.input(0), E.input(1), E.input(2)))], [picked, m, logS]);
      perSample = loss!.squeeze(1);
      disposeAll([index, picked, loss!], [perSample]);
    } else {
      const [weighted] = fused([E.mul(logProbOf(E.input(0), E.input(1), E.input(2)), E.input(3))], [x, m, logS, target]);
      const summed = weighted!.sum(1);
      perSample = summed.neg();
      disposeAll([weighted!, summed]);
    }
    const count = perSample.size;
    const out = reduceValue(perSample, reduction);
    if (out !== perSample) perSample.dispose();
    if (ctx.needsInputGrad[0]) {
      Object.assign(ctx, { m, logS, target, reduction, count });
      ctx.saveForBackward(input);
    } else {
      disposeAll([m, logS]);
    }
    return new Tensor(out);
  }

  static override backward(ctx: FunctionCtx, grad: Tensor): (Tensor | null)[] {
    if (!ctx.needsInputGrad[0]) return [null, null, null];
    const [input] = ctx.savedTensors as [Tensor];
    const { m, logS, target, reduction, count } = ctx as unknown as {
      m: NDArray; logS: NDArray; target: NDArray; reduction: Reduction; count: number;
    };
    const x = input.value, dtype = x.dtype;
    // The upstream gradient per sample, broadcastable over the logits: a scalar, or [N, 1, …] for "none".
    const g = reduction === "none" ? grad.value.unsqueeze(1) : grad.value;
    const scale = reduction === "mean" ? E.neg(E.div(E.input(0), E.param(0))) : E.neg(E.input(0));
    const logProb = logProbOf(E.input(1), E.input(2), E.input(3));
    const temporaries: NDArray[] = [];
    const made = (a: NDArray) => (temporaries.push(a), a);
    let dx: NDArray;
    if (target.dtype === "int32") {
      const classes = made(made(arange(x.shape[1]!, undefined, 1, { dtype, device: x.device }))
        .reshape(x.shape.map((d, i) => (i === 1 ? d : 1))));
      const labels = made(made(target.unsqueeze(1)).cast(dtype));
      const oneHot = E.eq(E.input(4), E.input(5));
      const expr = E.sub(E.mul(oneHot, scale), E.mul(E.exp(logProb), scale));
      dx = fused([expr], [g, x, m, logS, classes, labels], [count])[0]!;
    } else {
      const massPerRow = made(target.sum(1, true));
      const expr = E.mul(E.sub(E.mul(E.exp(logProb), E.input(5)), E.input(4)), E.neg(scale));
      dx = fused([expr], [g, x, m, logS, target, massPerRow], [count])[0]!;
    }
    if (g !== grad.value) g.dispose();
    disposeAll(temporaries);
    return [new Tensor(dx), null, null];
  }
}

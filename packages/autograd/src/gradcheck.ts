import * as T from "@backprop/tensor";
import { Generator } from "@backprop/tensor";
import { enableGrad, noGrad } from "./grad_mode.ts";
import type { DeviceGradcheckResult } from "./device_gradcheck.ts";
import { Tensor } from "./tensor.ts";
import { fmtShapeOf } from "./util.ts";

/**
 * The assignment's relative error: max over elements of |a − b| / max(floor, |a| + |b|), floor 1e-8 by default.
 * Elements whose |a| + |b| is below `floor` are compared in absolute terms (|a − b| / floor). Against central
 * differences, a gradient element that is nearly 0 (terms that cancel) has only the differences' rounding noise left
 * in |a − b|, so its ratio measures that noise; a floor at the noise level (e.g. 1e-4 × the largest |b| for float64
 * differences with step 1e-6) keeps the bound about the gradient.
 */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-8): number {
  if (a.length !== b.length) throw new T.ShapeError(`relError: expected arrays of one length, got lengths ${a.length} and ${b.length}`);
  if (!(floor > 0)) throw new T.ValueError(`relError: floor must be a positive number, got ${floor}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!, y = b[i]!;
    const r = Math.abs(x - y) / Math.max(floor, Math.abs(x) + Math.abs(y));
    if (r > worst || r !== r) worst = r;
  }
  return worst;
}

/** Settings of `gradcheck`. */
export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Absolute tolerance (default 1e-5). */
  atol?: number;
  /** Relative tolerance, times |numerical| (default 1e-3). */
  rtol?: number;
  /** Seed of the random projection of the outputs (default 0). */
  seed?: number;
  /** Throw a `GradcheckError` on failure (default true); otherwise inspect the result. */
  raiseException?: boolean;
}

/** What `gradcheck` found for one input. */
export interface InputCheck {
  /** Position of the input in the `inputs` array. */
  input: number;
  /** The input's shape (`worstIndex` is a row-major index into it). */
  shape: readonly number[];
  /** Flat index of the element furthest outside the tolerance (or with the largest error when all pass). */
  worstIndex: number;
  /** The backward pass's gradient at `worstIndex`. */
  analytical: number;
  /** The central-difference estimate at `worstIndex`. */
  numerical: number;
  /** Largest |analytical − numerical| over the input's elements. */
  maxAbsError: number;
  /** `relError` of the whole analytical gradient against the numerical one. */
  relError: number;
  /** The backward pass's gradient with respect to this input, flat in row-major order. */
  analyticalGradient: Float64Array;
  /** The central-difference estimate of it, element by element. */
  numericalGradient: Float64Array;
  /** Whether every element is within atol + rtol·|numerical|. */
  pass: boolean;
}

/** What `gradcheck` found: overall and per checked input. */
export interface GradcheckResult {
  /** Whether every checked input passed. */
  pass: boolean;
  /** One entry per input that requires a gradient, in order. */
  inputs: InputCheck[];
  /** The largest `relError` over the inputs. */
  maxRelError: number;
}

/**
 * Thrown by `gradcheck` on a mismatch, and by `gradcheckOnDevice` (as `GradcheckError<DeviceGradcheckResult>`);
 * `result` holds the details of every input.
 */
export class GradcheckError<R extends GradcheckResult | DeviceGradcheckResult = GradcheckResult> extends T.BackpropError {
  /** Makes the error; `result` is the full report. */
  constructor(message: string, readonly result: R) {
    super(message);
  }
}

/** The output's values in row-major order, as float64 (copied: the next probe reuses the input's buffer). */
function outputValues(out: Tensor): Float64Array {
  return Float64Array.from(out.value.dataSync() as ArrayLike<number | bigint>, Number);
}

/**
 * Σ (plus − minus) ⊙ r / 2eps. Differencing the outputs before projecting them keeps the digits that change: the
 * projected sums Σ plus ⊙ r and Σ minus ⊙ r carry the outputs' whole magnitude, so subtracting them cancels
 * catastrophically when the outputs are large (batch norm's β = 100·i) and the error, divided by 2eps, swamps the
 * derivative.
 */
function centralDifference(plus: Float64Array, minus: Float64Array, r: Float64Array, eps: number): number {
  let total = 0;
  for (let k = 0; k < r.length; k++) total += (plus[k]! - minus[k]!) * r[k]!;
  return total / (2 * eps);
}

/**
 * Checks the gradients `fn` computes against central finite differences, for every input that requires a grad.
 * The outputs are reduced by a fixed random projection L = Σ fn(x) ⊙ R, so one backward pass gives the
 * analytical gradient of L; each input element is then nudged by ±eps and the numerical derivative is
 * Σ (fn(x + eps) − fn(x − eps)) ⊙ R / 2eps, differenced before it is projected so that large outputs do not
 * cancel away its digits. Inputs must be float64 on the CPU.
 * Passes when |analytical − numerical| ≤ atol + rtol·|numerical| for every element.
 */
export function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: readonly Tensor[], options: GradcheckOptions = {}): GradcheckResult {
  const { eps = 1e-6, atol = 1e-5, rtol = 1e-3, seed = 0, raiseException = true } = options;
  const checked = inputs.map((x, i) => ({ x, i })).filter(({ x }) => x.requiresGrad);
  if (checked.length === 0) throw new T.ValueError("gradcheck: no input requires a gradient");
  for (const { x, i } of checked) {
    if (x.dtype !== "float64" || x.device !== "cpu") {
      throw new T.DTypeError(`gradcheck: input ${i} must be float64 on the CPU, got ${x.dtype} on ${x.device}`);
    }
  }
  const saved = inputs.map((x) => x.grad);
  inputs.forEach((x) => (x.grad = null));
  const out = enableGrad(() => fn(...inputs));
  const r = T.randn(out.shape, { dtype: "float64", generator: new Generator(seed) });
  const projection = r.dataSync() as Float64Array;
  const loss = enableGrad(() => out.mul(new Tensor(r)).sum());
  // An output with no graph (integer steps cast back to float, a constant) has a zero analytical gradient; the
  // finite differences must then be zero too.
  if (loss.requiresGrad) loss.backward();
  // Copies: the result keeps them after the gradients are dropped.
  const analytical = checked.map(({ x }) => (x.grad ? (x.grad.value.dataSync() as Float64Array).slice() : new Float64Array(x.size)));
  inputs.forEach((x, k) => (x.grad = saved[k] ?? null));

  const results: InputCheck[] = checked.map(({ x, i }, k) => {
    const original = x.value;
    const base = original.dataSync() as Float64Array;
    const numerical = new Float64Array(base.length);
    const at = (values: Float64Array) => {
      x.value = T.tensor(values, { shape: original.shape, dtype: "float64" });
      try {
        return noGrad(() => outputValues(fn(...inputs)));
      } finally {
        x.value = original;
      }
    };
    for (let j = 0; j < base.length; j++) {
      const v = base[j]!;
      base[j] = v + eps;
      const plus = at(base);
      base[j] = v - eps;
      const minus = at(base);
      base[j] = v;
      numerical[j] = centralDifference(plus, minus, projection, eps);
    }
    const a = analytical[k]!;
    let worstIndex = 0, worstExcess = -Infinity, maxAbsError = 0;
    for (let j = 0; j < a.length; j++) {
      const err = Math.abs(a[j]! - numerical[j]!);
      const excess = err - (atol + rtol * Math.abs(numerical[j]!));
      maxAbsError = Math.max(maxAbsError, err);
      if (excess > worstExcess || excess !== excess) {
        worstExcess = excess;
        worstIndex = j;
      }
    }
    return {
      input: i,
      shape: x.shape,
      worstIndex,
      analytical: a[worstIndex] ?? 0,
      numerical: numerical[worstIndex] ?? 0,
      maxAbsError,
      relError: relError(a, numerical),
      analyticalGradient: a,
      numericalGradient: numerical,
      pass: !(worstExcess > 0) && worstExcess === worstExcess || a.length === 0,
    };
  });
  const result: GradcheckResult = {
    pass: results.every((c) => c.pass),
    inputs: results,
    maxRelError: Math.max(0, ...results.map((c) => c.relError)),
  };
  if (!result.pass && raiseException) {
    const bad = results.find((c) => !c.pass)!;
    throw new GradcheckError(
      `gradcheck: gradient of input ${bad.input} ${fmtShapeOf(bad.shape)} is wrong at flat index ${bad.worstIndex}: ` +
        `analytical ${bad.analytical}, numerical ${bad.numerical} (|error| ${Math.abs(bad.analytical - bad.numerical)}, ` +
        `allowed ${atol} + ${rtol}·|numerical|)`,
      result,
    );
  }
  return result;
}

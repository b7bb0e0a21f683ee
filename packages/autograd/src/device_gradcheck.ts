import * as T from "@backprop/tensor";
import { Generator } from "@backprop/tensor";
import { enableGrad } from "./grad_mode.ts";
import { GradcheckError } from "./gradcheck.ts";
import { Tensor } from "./tensor.ts";
import { fmtShapeOf } from "./util.ts";

export interface DeviceGradcheckOptions {
  /** The device under test, e.g. `"webgpu"` (float32 only). */
  device: string;
  /** Allowed error relative to the largest reference gradient of the input (default 1e-4). */
  atol?: number;
  /** Allowed error relative to each element (default 1e-3). */
  rtol?: number;
  /** Seed of the random projection of the outputs (default 0). */
  seed?: number;
  raiseException?: boolean;
}

/** What `gradcheckOnDevice` found for one input that requires a gradient. */
export interface DeviceInputCheck {
  /** Position of the input in the `inputs` array. */
  input: number;
  /** The input's shape (`worstIndex` is a row-major index into it). */
  shape: readonly number[];
  /** Flat index of the element furthest outside the tolerance (or closest to it when all pass). */
  worstIndex: number;
  /** The device's gradient at `worstIndex`. */
  device: number;
  /** The CPU's float64 gradient at `worstIndex`. */
  reference: number;
  /** Largest |device − reference| over the input's elements. */
  maxAbsError: number;
  /** How many elements are outside atol·max|reference| + rtol·|reference| (an element where either gradient is NaN counts). */
  outside: number;
  /** The device's float32 gradient with respect to this input, flat in row-major order. */
  deviceGradient: Float64Array;
  /** The CPU's float64 gradient, element by element. */
  referenceGradient: Float64Array;
  /** Whether every element is within the tolerance. */
  pass: boolean;
}

/** What `gradcheckOnDevice` found: overall and per checked input. */
export interface DeviceGradcheckResult {
  /** Whether every checked input passed. */
  pass: boolean;
  /** One entry per input that requires a gradient, in input order. */
  inputs: DeviceInputCheck[];
}

/** The gradients of a random projection of `fn`'s output on `device` in `dtype`; nothing stays allocated there. */
async function gradients(
  fn: (...xs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  device: string,
  dtype: "float32" | "float64",
  seed: number,
): Promise<Float64Array[]> {
  const grads = T.tidy(() => {
    const xs = inputs.map((x) => {
      let v = x.value.cast(dtype, true);
      if (device !== v.device) v = v.to(device);
      return new Tensor(v, { requiresGrad: x.requiresGrad });
    });
    const out = enableGrad(() => fn(...xs));
    let r = T.randn(out.shape, { dtype: "float64", generator: new Generator(seed) }).cast(dtype);
    if (device !== "cpu") r = r.to(device);
    enableGrad(() => out.mul(new Tensor(r)).sum()).backward();
    return xs.filter((x) => x.requiresGrad).map((x) => x.grad?.value ?? T.zeros(x.shape, { dtype, device }));
  });
  try {
    return await Promise.all(grads.map(async (g) => Float64Array.from(await g.data() as ArrayLike<number>)));
  } finally {
    for (const g of grads) g.dispose();
  }
}

/**
 * Gradient check for devices without float64 (WebGPU): the analytical gradients `fn` computes on `device` in
 * float32 are compared with the same gradients computed on the CPU in float64 (whose own correctness
 * `gradcheck` establishes), element by element within atol·max|reference| + rtol·|reference|.
 * `inputs` are CPU tensors; those that require a gradient are checked.
 */
export async function gradcheckOnDevice(
  fn: (...inputs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  options: DeviceGradcheckOptions,
): Promise<DeviceGradcheckResult> {
  const { device, atol = 1e-4, rtol = 1e-3, seed = 0, raiseException = true } = options;
  const reference = await gradients(fn, inputs, "cpu", "float64", seed);
  const tested = await gradients(fn, inputs, device, "float32", seed);
  const checked = inputs.map((x, i) => ({ x, i })).filter(({ x }) => x.requiresGrad);
  const results = checked.map(({ x, i }, k): DeviceInputCheck => {
    const ref = reference[k]!, got = tested[k]!;
    const scale = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    let worstIndex = 0, worstExcess = -Infinity, maxAbsError = 0, outside = 0;
    for (let j = 0; j < ref.length; j++) {
      const err = Math.abs(got[j]! - ref[j]!);
      const excess = err - (atol * scale + rtol * Math.abs(ref[j]!));
      maxAbsError = Math.max(maxAbsError, err);
      if (!(excess <= 0)) outside++;
      if (worstExcess === worstExcess && (excess > worstExcess || excess !== excess)) [worstExcess, worstIndex] = [excess, j];
    }
    return {
      input: i, shape: x.shape, worstIndex, device: got[worstIndex] ?? 0, reference: ref[worstIndex] ?? 0, maxAbsError,
      outside, deviceGradient: got, referenceGradient: ref, pass: outside === 0,
    };
  });
  const result = { pass: results.every((r) => r.pass), inputs: results };
  if (!result.pass && raiseException) {
    const bad = results.find((r) => !r.pass)!;
    throw new GradcheckError<DeviceGradcheckResult>(
      `gradcheckOnDevice: on "${device}" the gradient of input ${bad.input} ${fmtShapeOf(bad.shape)} differs at flat index ` +
        `${bad.worstIndex}: ${bad.device} (float32) vs ${bad.reference} (CPU float64); ${bad.outside} of ${bad.referenceGradient.length} ` +
        `elements are outside ${atol} × max|reference| + ${rtol} × |reference|`,
      result,
    );
  }
  return result;
}

import type { DType, TypedArray } from "../dtype.ts";
import { BackpropError } from "../errors.ts";
import type { NDArray } from "../ndarray.ts";
import type { Ref } from "./reference.ts";

/**
 * Allowed difference between a result and the float64 reference: |got − expected| ≤ atol + rtol · m, where m is
 * the element's magnitude (|expected|, or for sums and products the sum of the absolute terms, since that is what
 * rounding error in a float32 accumulation scales with).
 */
export interface Tolerance {
  /** Allowed difference relative to the element's magnitude. */
  rtol: number;
  /** Allowed absolute difference. */
  atol: number;
}

/** Thrown when a backend's result differs from the reference; the message names the case, inputs and elements. */
export class ConformanceError extends BackpropError {}

function fmt(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

function fmtIndex(flat: number, shape: readonly number[]): string {
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(flat % shape[d]!);
    flat = Math.floor(flat / shape[d]!);
  }
  return fmt(idx);
}

/** A value as a message shows it: −0 keeps its sign. */
function fmtValue(v: number): string {
  return Object.is(v, -0) ? "-0" : String(v);
}

/** Dtypes whose values are compared exactly. */
function exact(dtype: DType): boolean {
  return dtype === "int32" || dtype === "bool";
}

/**
 * Checks a result array (its shape, dtype and values already read with `data()`) against a reference.
 * `label` says which operation on which inputs, so the error alone locates the failure. NaN matches NaN (and
 * the elements the reference marks `orNaN`), an infinity only itself; with `signedZeros`, a zero result must also have the sign of an expected zero (for the
 * operations where IEEE-754 and PyTorch define it: −x, |x|, √x, x · y, floor, …).
 */
export function expectMatches(
  label: string,
  got: NDArray,
  values: TypedArray,
  expected: Ref,
  tol: Tolerance,
  signedZeros = false,
): void {
  const problems: string[] = [];
  if (got.shape.length !== expected.shape.length || got.shape.some((d, i) => d !== expected.shape[i])) {
    problems.push(`shape ${fmt(got.shape)}, expected ${fmt(expected.shape)}`);
  }
  if (got.dtype !== expected.dtype) problems.push(`dtype ${got.dtype}, expected ${expected.dtype}`);
  if (values.length !== expected.data.length) problems.push(`${values.length} values, expected ${expected.data.length}`);
  if (problems.length) throw new ConformanceError(`${label}: ${problems.join("; ")}`);

  let bad = 0, first = -1, firstAllowed = 0;
  for (let i = 0; i < values.length; i++) {
    const g = values[i]!, e = expected.data[i]!;
    let ok: boolean;
    let allowed = 0;
    if (exact(expected.dtype)) ok = g === e;
    else if (Number.isNaN(g) && expected.orNaN?.[i]) ok = true;
    else if (Number.isNaN(e) || Number.isNaN(g)) ok = Number.isNaN(e) && Number.isNaN(g);
    else if (!Number.isFinite(e) || !Number.isFinite(g)) ok = g === e;
    else if (signedZeros && e === 0 && g === 0) ok = Object.is(g, e);
    else {
      allowed = tol.atol + tol.rtol * Math.max(Math.abs(e), expected.mag?.[i] ?? 0);
      ok = Math.abs(g - e) <= allowed;
    }
    if (!ok) {
      if (first < 0) [first, firstAllowed] = [i, allowed];
      bad++;
    }
  }
  if (bad === 0) return;
  const g = values[first]!, e = expected.data[first]!;
  const diff = exact(expected.dtype) ? "" : ` (|difference| ${Math.abs(g - e).toExponential(2)} > allowed ${firstAllowed.toExponential(2)})`;
  const either = expected.orNaN?.[first] ? " or NaN" : "";
  throw new ConformanceError(
    `${label}: ${bad} of ${values.length} values differ from the reference; first at ${fmtIndex(first, expected.shape)}: ` +
      `got ${fmtValue(g)}, expected ${fmtValue(e)}${either}${diff}`,
  );
}

/** Checks that `fn` throws an instance of `errorClass` whose message contains every string of `mentions`. */
export function expectThrows(
  label: string,
  fn: () => unknown,
  errorClass: abstract new (...args: never[]) => Error,
  mentions: readonly string[] = [],
): void {
  let thrown: unknown = undefined;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  if (thrown === undefined) throw new ConformanceError(`${label}: expected ${errorClass.name}, nothing was thrown`);
  if (!(thrown instanceof errorClass)) {
    const what = thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown);
    throw new ConformanceError(`${label}: expected ${errorClass.name}, got ${what}`);
  }
  const missing = mentions.filter((m) => !thrown.message.includes(m));
  if (missing.length) {
    throw new ConformanceError(
      `${label}: the ${errorClass.name} message ${JSON.stringify(thrown.message)} does not mention ${missing.map((m) => JSON.stringify(m)).join(", ")}`,
    );
  }
}

/** Like `expectThrows`, for an operation that reports the error by rejecting its promise (`data()`, `item()`). */
export async function expectRejects(
  label: string,
  fn: () => Promise<unknown>,
  errorClass: abstract new (...args: never[]) => Error,
  mentions: readonly string[] = [],
): Promise<void> {
  let outcome: { error: unknown } | undefined;
  try {
    await fn();
  } catch (e) {
    outcome = { error: e };
  }
  expectThrows(label, () => {
    if (outcome) throw outcome.error;
  }, errorClass, mentions);
}

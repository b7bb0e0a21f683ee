// eˣ and ln x on f32x4 lanes for the fused kernels (WebAssembly has neither): Cephes' single-precision
// range reductions and polynomials (expf, logf), about 2 ulp from the float64 reference on normal arguments.
// Both keep the library's special values: NaN stays NaN, exp(+∞) = ∞, exp(−∞) = 0, log(0) = −∞, log(x < 0) = NaN,
// log(+∞) = ∞, and subnormal arguments of log are scaled into the normal range first.
import type { FunctionBuilder, Local } from "./emitter.ts";
import { ValType } from "./emitter.ts";

const { v128 } = ValType;

function splat(f: FunctionBuilder, v: number): void {
  f.f32x4Splat(() => f.f32Const(v));
}
function splatI(f: FunctionBuilder, v: number): void {
  f.i32x4Splat(() => f.i32Const(v));
}

/** c₀ + m·(c₁ + m·(c₂ + …)) by Horner's rule, highest coefficient first in `coefficients`. */
function horner(f: FunctionBuilder, m: Local, coefficients: readonly number[]): void {
  splat(f, coefficients[0]!);
  for (const c of coefficients.slice(1)) {
    f.f32x4Mul(undefined, m);
    f.f32x4Add(undefined, () => splat(f, c));
  }
}

/** Largest argument whose eˣ is finite in float32, and the smallest whose 2ⁿ scale stays a normal number. */
const EXP_HI = 88.72283, EXP_LO = -86.6;

/** Pushes exp of the lanes of `x`. Below EXP_LO the result is 0 (the true value is under 2.5e−38). */
export function emitExpF32x4(f: FunctionBuilder, x: Local): void {
  const xc = f.local(v128), n = f.local(v128), r = f.local(v128), y = f.local(v128);
  // Clamped, so n below stays within the exponent range; NaN lanes are restored at the end.
  f.set(xc, () => f.f32x4Min(() => f.f32x4Max(x, () => splat(f, EXP_LO)), () => splat(f, EXP_HI)));
  f.set(n, () => f.f32x4Nearest(() => f.f32x4Mul(xc, () => splat(f, 1.44269504088896341))));
  // r = x − n·ln 2 in two parts, so the reduction is exact to float32.
  f.set(r, () => f.f32x4Sub(() => f.f32x4Sub(xc, () => f.f32x4Mul(n, () => splat(f, 0.693359375))), () => f.f32x4Mul(n, () => splat(f, -2.12194440e-4))));
  f.set(y, () => horner(f, r, [1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1]));
  f.set(y, () => f.f32x4Add(() => f.f32x4Add(() => f.f32x4Mul(y, () => f.f32x4Mul(r, r)), r), () => splat(f, 1)));
  // y·2ⁿ as y·2ⁿ⁻¹·2: n reaches 128, whose own exponent field would read as ∞.
  const scale = () => f.i32x4Shl(() => f.i32x4Add(() => f.i32x4TruncSatF32x4S(n), () => splatI(f, 126)), () => f.i32Const(23));
  f.set(y, () => f.f32x4Mul(() => f.f32x4Mul(y, scale), () => splat(f, 2)));
  f.set(y, () => f.v128Bitselect(() => splat(f, Infinity), y, () => f.f32x4Compare("gt", x, () => splat(f, EXP_HI))));
  f.set(y, () => f.v128Bitselect(() => f.v128Zero(), y, () => f.f32x4Compare("lt", x, () => splat(f, EXP_LO))));
  f.v128Bitselect(x, y, () => f.f32x4Compare("ne", x, x));
}

/** Pushes the natural logarithm of the lanes of `x`. */
export function emitLogF32x4(f: FunctionBuilder, x: Local): void {
  const sub = f.local(v128), bits = f.local(v128), e = f.local(v128), m = f.local(v128), lt = f.local(v128);
  const z = f.local(v128), y = f.local(v128), ef = f.local(v128);
  // Subnormals (and zero, handled at the end) are scaled by 2²³ into the normal range.
  f.set(sub, () => f.f32x4Compare("lt", () => f.f32x4Abs(x), () => splat(f, 1.17549435e-38)));
  f.set(bits, () => f.v128Bitselect(() => f.f32x4Mul(x, () => splat(f, 8388608)), x, sub));
  // x = m·2ᵉ with m in [0.5, 1).
  f.set(e, () => f.i32x4Sub(() => f.v128And(() => f.i32x4ShrU(bits, () => f.i32Const(23)), () => splatI(f, 0xff)), () => splatI(f, 126)));
  f.set(e, () => f.i32x4Sub(e, () => f.v128And(sub, () => splatI(f, 23))));
  f.set(m, () => f.v128Or(() => f.v128And(bits, () => splatI(f, 0x007fffff)), () => splatI(f, 0x3f000000)));
  // Below √½ use 2m − 1 and e − 1, so the polynomial's argument stays in [√½ − 1, √2 − 1).
  f.set(lt, () => f.f32x4Compare("lt", m, () => splat(f, 0.707106781186547524)));
  f.set(e, () => f.i32x4Add(e, lt));
  f.set(m, () => f.v128Bitselect(() => f.f32x4Sub(() => f.f32x4Add(m, m), () => splat(f, 1)), () => f.f32x4Sub(m, () => splat(f, 1)), lt));
  f.set(z, () => f.f32x4Mul(m, m));
  f.set(y, () => horner(f, m, [7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1]));
  f.set(y, () => f.f32x4Mul(() => f.f32x4Mul(y, m), z));
  f.set(ef, () => f.f32x4ConvertI32x4S(e));
  f.set(y, () => f.f32x4Add(y, () => f.f32x4Mul(ef, () => splat(f, -2.12194440e-4))));
  f.set(y, () => f.f32x4Sub(y, () => f.f32x4Mul(z, () => splat(f, 0.5))));
  f.set(y, () => f.f32x4Add(() => f.f32x4Add(m, y), () => f.f32x4Mul(ef, () => splat(f, 0.693359375))));
  f.set(y, () => f.v128Bitselect(() => splat(f, -Infinity), y, () => f.f32x4Compare("eq", x, () => f.v128Zero())));
  f.set(y, () => f.v128Bitselect(() => splat(f, NaN), y, () => f.f32x4Compare("lt", x, () => f.v128Zero())));
  // NaN and +∞ are their own logarithms.
  f.v128Bitselect(x, y, () => f.v128Or(() => f.f32x4Compare("ne", x, x), () => f.f32x4Compare("eq", x, () => splat(f, Infinity))));
}

/** Pushes c₀·x + c₁·x² + … for the lanes of `x` (coefficients lowest power first), as x·(c₀ + x·(c₁ + …)). */
function series(f: FunctionBuilder, x: Local, coefficients: readonly number[]): void {
  const reversed = [...coefficients].reverse();
  f.f32x4Mul(x, () => horner(f, x, reversed));
}

/**
 * Pushes eˣ − 1: the Taylor series to x⁹/9! below |x| = 0.5 (relative error under 1e−9, and exact signs of
 * zero), exp(x) − 1 above, where nothing cancels.
 */
export function emitExpm1F32x4(f: FunctionBuilder, x: Local): void {
  const big = f.local(v128);
  f.set(big, () => f.f32x4Sub(() => emitExpF32x4(f, x), () => splat(f, 1)));
  f.v128Bitselect(
    () => series(f, x, [1, 1 / 2, 1 / 6, 1 / 24, 1 / 120, 1 / 720, 1 / 5040, 1 / 40320, 1 / 362880]),
    big,
    () => f.f32x4Compare("lt", () => f.f32x4Abs(x), () => splat(f, 0.5)),
  );
}

/** Pushes ln(1 + x): 2·atanh(s), s = x / (2 + x), by its odd series below |x| = 0.5; log(1 + x) above. */
export function emitLog1pF32x4(f: FunctionBuilder, x: Local): void {
  const big = f.local(v128), onePlus = f.local(v128), s = f.local(v128), s2 = f.local(v128);
  f.set(onePlus, () => f.f32x4Add(x, () => splat(f, 1)));
  f.set(big, () => emitLogF32x4(f, onePlus));
  f.set(s, () => f.f32x4Div(x, () => f.f32x4Add(x, () => splat(f, 2))));
  f.set(s2, () => f.f32x4Mul(s, s));
  f.v128Bitselect(
    () => f.f32x4Mul(() => f.f32x4Mul(s, () => splat(f, 2)), () => {
      horner(f, s2, [1 / 11, 1 / 9, 1 / 7, 1 / 5, 1 / 3]);
      f.f32x4Mul(undefined, s2);
      f.f32x4Add(undefined, () => splat(f, 1));
    }),
    big,
    () => f.f32x4Compare("lt", () => f.f32x4Abs(x), () => splat(f, 0.5)),
  );
}

/** Pushes tanh x = −t / (2 + t), t = eˣ⁻¹ at −2|x|, with x's sign bit (tanh(−0) = −0); NaN stays NaN. */
export function emitTanhF32x4(f: FunctionBuilder, x: Local): void {
  const a = f.local(v128), t = f.local(v128), r = f.local(v128);
  f.set(a, () => f.f32x4Mul(() => f.f32x4Abs(x), () => splat(f, -2)));
  f.set(t, () => emitExpm1F32x4(f, a));
  f.set(r, () => f.f32x4Div(() => f.f32x4Neg(t), () => f.f32x4Add(t, () => splat(f, 2))));
  // |r| with x's sign bit.
  const sign = () => splatI(f, 0x80000000 | 0);
  f.v128Or(() => f.v128And(r, () => splatI(f, 0x7fffffff)), () => f.v128And(x, sign));
}

// sin and cos: x = n·π/2 + r with |r| ≤ π/4 (Cody–Waite: π/2 in three float32 parts, the first two short enough
// that n·part is exact for |n| ≤ 2¹²), then Cephes' sinf/cosf polynomials on r and the quadrant n mod 4 picking
// ±sin r or ±cos r. Within 2e−7 + 2e−7·|ref| of the float64 reference for |x| ≤ 1e4; the reduction loses about
// 1e−11·|x| beyond that (float32 numbers there are ≥ 0.001 apart). NaN and ±∞ give NaN; sin(±0) = ±0.
const PIO2_1 = 1.5703125, PIO2_2 = 4.837512969970703125e-4, PIO2_3 = 7.54978995489188216e-8;

/** Pushes sin (quadrant offset 0) or cos (offset 1) of the lanes of `x`. */
function emitSinCos(f: FunctionBuilder, x: Local, offset: 0 | 1): void {
  const n = f.local(v128), r = f.local(v128), z = f.local(v128), s = f.local(v128), c = f.local(v128), q = f.local(v128);
  f.set(n, () => f.f32x4Nearest(() => f.f32x4Mul(x, () => splat(f, 0.636619772367581343))));
  f.set(r, () => f.f32x4Sub(x, () => f.f32x4Mul(n, () => splat(f, PIO2_1))));
  f.set(r, () => f.f32x4Sub(r, () => f.f32x4Mul(n, () => splat(f, PIO2_2))));
  f.set(r, () => f.f32x4Sub(r, () => f.f32x4Mul(n, () => splat(f, PIO2_3))));
  f.set(z, () => f.f32x4Mul(r, r));
  // sin r = r + r·z·P(z); cos r = 1 − z/2 + z²·Q(z).
  f.set(s, () => f.f32x4Add(() => f.f32x4Mul(() => f.f32x4Mul(() => horner(f, z, [-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1]), z), r), r));
  f.set(c, () =>
    f.f32x4Add(
      () => f.f32x4Sub(() => splat(f, 1), () => f.f32x4Mul(z, () => splat(f, 0.5))),
      () => f.f32x4Mul(() => f.f32x4Mul(() => horner(f, z, [2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2]), z), z),
    )
  );
  // Quadrant q = n + offset (mod 4): odd q takes the other function, q ≥ 2 the negative.
  f.set(q, () => f.i32x4Add(() => f.i32x4TruncSatF32x4S(n), () => splatI(f, offset)));
  f.set(s, () => f.v128Bitselect(c, s, () => f.i32x4Sub(() => f.v128Zero(), () => f.v128And(q, () => splatI(f, 1)))));
  f.set(s, () => f.f32x4Mul(s, () => f.f32x4ConvertI32x4S(() => f.i32x4Sub(() => splatI(f, 1), () => f.v128And(q, () => splatI(f, 2))))));
  if (offset === 1) return void f.get(s);
  // sin(±0) = ±0 (the reduction gives +0 for −0).
  f.v128Bitselect(x, s, () => f.f32x4Compare("eq", x, () => f.v128Zero()));
}

/** Pushes sin of the lanes of `x`. */
export function emitSinF32x4(f: FunctionBuilder, x: Local): void {
  emitSinCos(f, x, 0);
}

/** Pushes cos of the lanes of `x`. */
export function emitCosF32x4(f: FunctionBuilder, x: Local): void {
  emitSinCos(f, x, 1);
}

/**
 * Pushes aᵇ with C's special cases (as PyTorch): e^(b·ln|a|), negated for a negative base and an odd integer
 * exponent, NaN for a finite negative base and a non-integer exponent, and pow(a, ±0) = pow(1, b) = 1 even for
 * NaN. Relative error about 1e−7·(1 + |b·ln|a||): under 1e−5 wherever the result is a normal float32.
 */
export function emitPowF32x4(f: FunctionBuilder, a: Local, b: Local): void {
  const absA = f.local(v128), y = f.local(v128), half = f.local(v128), odd = f.local(v128);
  f.set(absA, () => f.f32x4Abs(a));
  f.set(y, () => f.f32x4Mul(b, () => emitLogF32x4(f, absA)));
  f.set(y, () => emitExpF32x4(f, y));
  // b is odd when b − 2·floor(b/2) = 1 (never for ±∞: ∞ − ∞ is NaN).
  f.set(half, () => f.f32x4Mul(b, () => splat(f, 0.5)));
  f.set(odd, () => f.f32x4Compare("eq", () => f.f32x4Sub(b, () => f.f32x4Add(() => f.f32x4Floor(half), () => f.f32x4Floor(half))), () => splat(f, 1)));
  // The sign bit of a, where b is odd: pow(−0, 3) = −0, pow(−∞, 3) = −∞.
  f.set(y, () => f.v128Or(y, () => f.v128And(() => f.v128And(a, odd), () => splatI(f, 0x80000000 | 0))));
  const negativeFinite = () => f.v128And(() => f.f32x4Compare("lt", a, () => f.v128Zero()), () => f.f32x4Compare("gt", a, () => splat(f, -Infinity)));
  const nonInteger = () => f.v128And(() => f.f32x4Compare("ne", b, () => f.f32x4Floor(b)), () => f.f32x4Compare("eq", b, b));
  f.set(y, () => f.v128Bitselect(() => splat(f, NaN), y, () => f.v128And(negativeFinite, nonInteger)));
  // pow(a, ±0) = pow(1, b) = pow(−1, ±∞) = 1.
  const oneToInfinity = () =>
    f.v128And(() => f.f32x4Compare("eq", absA, () => splat(f, 1)), () => f.f32x4Compare("eq", () => f.f32x4Abs(b), () => splat(f, Infinity)));
  f.v128Bitselect(
    () => splat(f, 1),
    y,
    () => f.v128Or(() => f.v128Or(() => f.f32x4Compare("eq", b, () => f.v128Zero()), () => f.f32x4Compare("eq", a, () => splat(f, 1))), oneToInfinity),
  );
}

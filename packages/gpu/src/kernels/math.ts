/**
 * Float helpers with the CPU backend's semantics where WGSL leaves them loose: WGSL's `log`, `sqrt`, `pow` are
 * undefined outside their domain and its `exp(x) - 1` / `log(1 + x)` lose all precision near 0, so these handle
 * the edges explicitly and use short series where cancellation would otherwise dominate.
 */
export const MATH_WGSL = /* wgsl */ `
// Subnormal arguments are scaled by 2^23 into the normal range first: llvmpipe's log and log2 read a
// subnormal's exponent field as if it were normal (log(2^-127) came out −87.62 instead of −88.03).
const MIN_NORMAL_ = 1.17549435e-38;
fn log_(x: f32) -> f32 {
  if (isnan_(x) || x < 0.0) { return nan_(); }
  if (x == 0.0) { return -inf_(); }
  if (x < MIN_NORMAL_) { return log(x * 8388608.0) - 15.942385152878742; }
  return log(x);
}
fn log2_(x: f32) -> f32 {
  if (x < MIN_NORMAL_) { return log2(x * 8388608.0) - 23.0; }
  return log2(x);
}
fn sqrt_(x: f32) -> f32 {
  if (isnan_(x) || x < 0.0) { return nan_(); }
  return sqrt(x);
}
fn expm1_(x: f32) -> f32 {
  if (abs(x) < 0.5) {
    // Taylor series to x^9/9!: relative error below 1e-9 on |x| < 0.5.
    return x * (1.0 + x * (0.5 + x * (1.0 / 6.0 + x * (1.0 / 24.0 + x * (1.0 / 120.0 + x * (1.0 / 720.0
      + x * (1.0 / 5040.0 + x * (1.0 / 40320.0 + x * (1.0 / 362880.0)))))))));
  }
  return exp(x) - 1.0;
}
fn log1p_(x: f32) -> f32 {
  if (abs(x) < 0.5) {
    // log(1 + x) = 2 atanh(s), s = x / (2 + x), |s| < 0.2: the odd series converges fast.
    let s = x / (2.0 + x);
    let s2 = s * s;
    return 2.0 * s * (1.0 + s2 * (1.0 / 3.0 + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0 + s2 * (1.0 / 11.0))))));
  }
  return log_(1.0 + x);
}
fn tanh_(x: f32) -> f32 {
  if (isnan_(x)) { return x; }
  let t = expm1_(-2.0 * abs(x));
  let r = -t / (2.0 + t);
  // The sign bit, not x < 0: tanh(−0) = −0.
  return select(r, -r, (bitcast<u32>(x) & 0x80000000u) != 0u);
}
fn sigmoid_(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}
fn isint_(y: f32) -> bool { return floor(y) == y && abs(y) != inf_(); }
fn isodd_(y: f32) -> bool { return isint_(y) && abs(y) < 16777216.0 && (i32(abs(y)) & 1) == 1; }
// C's pow, which PyTorch follows: pow(x, 0) = 1 and pow(1, y) = 1 even for NaN, pow(−1, ±∞) = 1,
// pow(−∞, y) = ∞ or 0 for fractional y.
fn pow_(x: f32, y: f32) -> f32 {
  if (isnan_(x) || isnan_(y)) { return select(nan_(), 1.0, (y == 0.0 && !isnan_(y)) || (x == 1.0 && !isnan_(x))); }
  if (y == 0.0 || x == 1.0) { return 1.0; }
  if (abs(y) == inf_()) {
    let ax = abs(x);
    if (ax == 1.0) { return 1.0; }
    return select(0.0, inf_(), (ax > 1.0) == (y > 0.0));
  }
  if (x == 0.0) {
    if (y > 0.0) { return select(0.0, x, isodd_(y)); }
    return select(inf_(), select(inf_(), -inf_(), bitcast<u32>(x) != 0u), isodd_(y));
  }
  if (y == 1.0) { return x; }
  if (y == 2.0) { return x * x; }
  if (y == 0.5 && x != -inf_()) { return sqrt_(x); }
  if (y == -1.0) { return 1.0 / x; }
  if (isint_(y) && abs(y) <= 64.0) {
    // Repeated squaring: exact for small integer powers, where exp2(y·log2 x) would round.
    var base = select(x, 1.0 / x, y < 0.0);
    var e = u32(abs(y));
    var r = 1.0;
    while (e > 0u) {
      if ((e & 1u) == 1u) { r = r * base; }
      base = base * base;
      e = e >> 1u;
    }
    return r;
  }
  if (x < 0.0) {
    if (!isint_(y)) { return select(nan_(), select(0.0, inf_(), y > 0.0), x == -inf_()); }
    let m = exp2(y * log2_(-x));
    return select(m, -m, isodd_(y));
  }
  return exp2(y * log2_(x));
}
fn powi_(x: i32, y: i32) -> i32 {
  if (y < 0) {
    if (x == 1) { return 1; }
    if (x == -1) { return select(1, -1, (y & 1) == 1); }
    return 0;
  }
  var base = x;
  var e = y;
  var r = 1;
  while (e > 0) {
    if ((e & 1) == 1) { r = r * base; }
    base = base * base;
    e = e >> 1u;
  }
  return r;
}
`;

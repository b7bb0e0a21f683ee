/**
 * Float helpers with the CPU backend's semantics where WGSL leaves them loose: WGSL's `log`, `sqrt`, `pow` are
 * undefined outside their domain and its `exp(x) - 1` / `log(1 + x)` lose all precision near 0, so these handle
 * the edges explicitly and use short series where cancellation would otherwise dominate.
 */
export const MATH_WGSL = /* wgsl */ `
fn log_(x: f32) -> f32 {
  if (x < 0.0) { return nan_(); }
  if (x == 0.0) { return -inf_(); }
  return log(x);
}
fn sqrt_(x: f32) -> f32 {
  if (x < 0.0) { return nan_(); }
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
  return select(r, -r, x < 0.0);
}
fn sigmoid_(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}
fn isint_(y: f32) -> bool { return floor(y) == y && abs(y) != inf_(); }
fn isodd_(y: f32) -> bool { return isint_(y) && abs(y) < 16777216.0 && (i32(abs(y)) & 1) == 1; }
fn pow_(x: f32, y: f32) -> f32 {
  if (y == 0.0) { return 1.0; }
  if (isnan_(x) || isnan_(y)) { return nan_(); }
  if (y == 1.0) { return x; }
  if (y == 2.0) { return x * x; }
  if (y == 0.5 && x != -inf_()) { return sqrt_(x); }
  if (y == -1.0) { return 1.0 / x; }
  if (x == 0.0) {
    if (y > 0.0) { return select(0.0, x, isodd_(y)); }
    return select(inf_(), select(inf_(), -inf_(), bitcast<u32>(x) != 0u), isodd_(y));
  }
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
    if (!isint_(y)) { return nan_(); }
    let m = exp2(y * log2(-x));
    return select(m, -m, isodd_(y));
  }
  return exp2(y * log2(x));
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

import { entry1d, storageDecls } from "../bindings.ts";
import type { KernelSpec } from "../runtime.ts";

/**
 * Philox-4x32-10, as `@backprop/tensor`'s random.ts: thread b computes block counter + b of the key's stream
 * (four words) and turns it into four float32 values, so a GPU tensor holds exactly the CPU's uniform numbers
 * for the same generator state. Normal values use the same Box–Muller pairs (words 2j, 2j + 1); the CPU
 * evaluates log/cos/sin in float64 and rounds, the GPU in float32, so they agree to a few float32 ulps.
 * Params: size, key0, key1, counter (low word), counter (high word), distribution (0 uniform, 1 normal).
 */
export const randomKernel: KernelSpec = {
  key: "random-philox",
  inputs: 0,
  outputs: 1,
  source: () => `
${storageDecls([], [["out", "array<f32>"]])}
fn mulhi_(a: u32, b: u32) -> u32 {
  let ah = a >> 16u; let al = a & 0xffffu; let bh = b >> 16u; let bl = b & 0xffffu;
  let lh = al * bh; let hl = ah * bl;
  let mid = ((al * bl) >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
  return ah * bh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
}
fn philox_(k: vec2<u32>, ctr: vec2<u32>) -> vec4<u32> {
  var c = vec4<u32>(ctr.x, ctr.y, 0u, 0u);
  var key = k;
  for (var r = 0u; r < 10u; r++) {
    let hi0 = mulhi_(0xd2511f53u, c.x); let lo0 = 0xd2511f53u * c.x;
    let hi1 = mulhi_(0xcd9e8d57u, c.z); let lo1 = 0xcd9e8d57u * c.z;
    c = vec4<u32>(hi1 ^ c.y ^ key.x, lo1, hi0 ^ c.w ^ key.y, lo0);
    key = key + vec2<u32>(0x9e3779b9u, 0xbb67ae85u);
  }
  return c;
}
fn unit_(w: u32) -> f32 { return f32(w >> 8u) * (1.0 / 16777216.0); }
// sin and cos of 2π·t for t in [0, 1): quarter-turn reduction (exact in float32) and short series on
// [−π/4, π/4], accurate to float32 rounding whatever the GPU's own sin/cos precision is.
fn sincos2pi_(t: f32) -> vec2<f32> {
  let q = round(t * 4.0);
  let a = (t * 4.0 - q) * 1.5707963267948966;
  let a2 = a * a;
  let s = a * (1.0 + a2 * (-1.0 / 6.0 + a2 * (1.0 / 120.0 + a2 * (-1.0 / 5040.0 + a2 * (1.0 / 362880.0)))));
  let c = 1.0 + a2 * (-0.5 + a2 * (1.0 / 24.0 + a2 * (-1.0 / 720.0 + a2 * (1.0 / 40320.0 + a2 * (-1.0 / 3628800.0)))));
  switch (u32(q) & 3u) {
    case 0u: { return vec2<f32>(s, c); }
    case 1u: { return vec2<f32>(c, -s); }
    case 2u: { return vec2<f32>(-s, -c); }
    default: { return vec2<f32>(-c, s); }
  }
}
${entry1d(64)}
  let size = pu(0u);
  let base = i * 4u;
  if (base >= size) { return; }
  let lo = pu(3u) + i;
  let hi = pu(4u) + select(0u, 1u, lo < i);
  let w = philox_(vec2<u32>(pu(1u), pu(2u)), vec2<u32>(lo, hi));
  var v: vec4<f32>;
  if (pu(5u) == 0u) {
    v = vec4<f32>(unit_(w.x), unit_(w.y), unit_(w.z), unit_(w.w));
  } else {
    let r0 = sqrt(-2.0 * log(unit_(w.x) + 1.0 / 16777216.0));
    let r1 = sqrt(-2.0 * log(unit_(w.z) + 1.0 / 16777216.0));
    let sc0 = sincos2pi_(unit_(w.y));
    let sc1 = sincos2pi_(unit_(w.w));
    v = vec4<f32>(r0 * sc0.y, r0 * sc0.x, r1 * sc1.y, r1 * sc1.x);
  }
  for (var k = 0u; k < 4u; k++) {
    if (base + k < size) { out[base + k] = v[k]; }
  }
}`,
};

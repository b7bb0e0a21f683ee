import { type DType, DTypeError } from "@backprop/tensor";

export type WgslScalar = "f32" | "i32" | "u32";

/** The WGSL element type a dtype is stored as on the GPU (bool as u32 0/1). */
export function wgslType(dtype: DType, op = "webgpu"): WgslScalar {
  switch (dtype) {
    case "float32":
      return "f32";
    case "int32":
      return "i32";
    case "bool":
      return "u32";
    case "float64":
      throw float64Error(op);
  }
}

export function float64Error(op: string): DTypeError {
  return new DTypeError(
    `${op}: float64 is not supported on WebGPU (WGSL has no 64-bit floats); use float32, or keep this array on the cpu`,
  );
}

/**
 * WGSL converting `expr` (a value stored as `from`) to how `to` is stored, with the CPU backend's rules: to bool
 * every non-zero value and NaN become 1; to int32 floats truncate toward zero, NaN and ±∞ become 0.
 */
export function convert(expr: string, from: DType, to: DType): string {
  if (from === to) return expr;
  const f = wgslType(from), t = wgslType(to);
  if (t === "u32") return f === "f32" ? `f2b_(${expr})` : `select(0u, 1u, ${expr} != ${f === "i32" ? "0i" : "0u"})`;
  if (t === "i32") return f === "f32" ? `f2i_(${expr})` : `i32(${expr})`;
  return `f32(${expr})`;
}

/** Helpers `convert` relies on. */
export const CONVERT_WGSL = /* wgsl */ `
fn f2b_(x: f32) -> u32 { return select(0u, 1u, x != 0.0 || isnan_(x)); }
fn f2i_(x: f32) -> i32 {
  if (isnan_(x) || abs(x) == inf_()) { return 0i; }
  return i32(x);
}
`;

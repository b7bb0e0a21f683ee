import type { DType } from "@backprop/tensor";
import { wgslType } from "../wgsl_types.ts";
import type { GemmProblem } from "./gemm.ts";

/**
 * Batched matmul over strided [B, M, K] × [B, K, N] views (transposed and broadcast operands are read in place).
 * Parameters after the GEMM base: A's offset and batch/row/column strides, then B's.
 */
export function matmulProblem(dtype: DType, aMFast: boolean, bNFast: boolean): GemmProblem {
  const t = wgslType(dtype, "matmul") as "f32" | "i32";
  return {
    key: `matmul:${aMFast ? "am" : "ak"}:${bNFast ? "bn" : "bk"}`,
    type: t,
    inputs: [["a_", `array<${t}>`], ["b_", `array<${t}>`]],
    decls: `
var<private> aOff: u32; var<private> sab: u32; var<private> sam: u32; var<private> sak: u32;
var<private> bOff: u32; var<private> sbb: u32; var<private> sbk: u32; var<private> sbn: u32;
var<private> Mp: u32; var<private> Np: u32;
fn loadA_(b: u32, m: u32, k: u32) -> ${t} { return a_[aOff + b * sab + m * sam + k * sak]; }
fn loadB_(b: u32, k: u32, n: u32) -> ${t} { return b_[bOff + b * sbb + k * sbk + n * sbn]; }
fn outIndex_(b: u32, m: u32, n: u32) -> u32 { return (b * Mp + m) * Np + n; }`,
    prologue: `aOff = pu(7u); sab = pu(8u); sam = pu(9u); sak = pu(10u);
  bOff = pu(11u); sbb = pu(12u); sbk = pu(13u); sbn = pu(14u); Mp = M; Np = N;`,
    aMFast,
    bNFast,
  };
}

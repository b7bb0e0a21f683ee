import { InternalError } from "@backprop/tensor";
import { GpuLimitError } from "./errors.ts";

/**
 * Every kernel reads its sizes, strides and scalars from one 256-byte uniform block (64 words, binding 0).
 * Word 63 is always zero: kernels OR it into bit patterns of ∞ and NaN so the shader compiler cannot fold them
 * into a constant expression (WGSL rejects non-finite constants).
 */
export const PARAM_WORDS = 64;
export const PARAM_BYTES = PARAM_WORDS * 4;
const USABLE_WORDS = PARAM_WORDS - 1;

const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);

/** Builds a kernel's uniform block; the `p*` accessors of `PRELUDE` read it back by word index. */
export class ParamWriter {
  readonly words: Uint32Array = new Uint32Array(PARAM_WORDS);
  #n = 0;

  get length(): number {
    return this.#n;
  }

  private put(bits: number): this {
    if (this.#n >= USABLE_WORDS) throw new InternalError(`kernel parameters: more than ${USABLE_WORDS} words written`);
    this.words[this.#n++] = bits >>> 0;
    return this;
  }

  u32(v: number): this {
    if (v > 0xffffffff) {
      throw new GpuLimitError(`kernel parameter ${v} is beyond WebGPU's 32-bit sizes and offsets (at most ${0xffffffff})`);
    }
    if (!(v >= 0)) throw new InternalError(`kernel parameter: expected an unsigned 32-bit value, got ${v}`);
    return this.put(v);
  }

  i32(v: number): this {
    return this.put(v | 0);
  }

  f32(v: number): this {
    f32[0] = v;
    return this.put(f32Bits[0]!);
  }

  u32s(vs: readonly number[]): this {
    for (const v of vs) this.u32(v);
    return this;
  }
}

/** WGSL shared by every kernel: the parameter block, its accessors, NaN tests and the flat invocation index. */
export const PRELUDE = /* wgsl */ `
struct Params { v: array<vec4<u32>, 16> }
@group(0) @binding(0) var<uniform> params: Params;
fn pu(i: u32) -> u32 { return params.v[i >> 2u][i & 3u]; }
fn pi(i: u32) -> i32 { return bitcast<i32>(pu(i)); }
fn pf(i: u32) -> f32 { return bitcast<f32>(pu(i)); }
fn isnan_(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn nan_() -> f32 { return bitcast<f32>(0x7fc00000u | pu(63u)); }
fn inf_() -> f32 { return bitcast<f32>(0x7f800000u | pu(63u)); }
fn flat_(wid: vec3<u32>, nwg: vec3<u32>, lid: u32, size: u32) -> u32 { return (wid.x + wid.y * nwg.x) * size + lid; }
`;

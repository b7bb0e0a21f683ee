// Assembles every kernel into one module that imports its memory, so the same compiled module can be
// instantiated on the calling thread and in each worker over one shared WebAssembly.Memory.
import { ModuleBuilder } from "./emitter.ts";
import { emitGemm, type GemmTiling } from "./gemm_kernel.ts";
import { emitPeak } from "./peak_kernel.ts";
import { emitIm2col, type Im2colExports } from "./im2col_kernel.ts";
import { emitMaxPool, type PoolExports } from "./pool_kernel.ts";
import { emitExtremeRowKernels, type ExtremeRowExports } from "./extreme_kernel.ts";
import {
  emitStridedElementwise,
  type StridedElementwiseExports,
} from "./strided_kernel.ts";

export interface KernelModuleOptions {
  /** Emit f32x4.relaxed_madd (true) or f32x4.mul + f32x4.add (false). */
  readonly relaxed: boolean;
  /** Import a shared memory (needed for workers); must match the memory it is instantiated with. */
  readonly shared: boolean;
  readonly maximumPages: number;
  readonly tiling: GemmTiling;
}

/** The exports every kernel module has; pointers are byte addresses into the memory. */
export type KernelExports =
  & KernelCoreExports
  & Im2colExports
  & StridedElementwiseExports
  & PoolExports
  & ExtremeRowExports;

/** GEMM and the peak loop. */
export interface KernelCoreExports {
  gemm(
    transA: number,
    transB: number,
    m: number,
    n: number,
    k: number,
    a: number,
    lda: number,
    b: number,
    ldb: number,
    c: number,
    ldc: number,
    beta: number,
    work: number,
    packedB: number,
    bias: number,
    epilogue: number,
  ): void;
  /** Packs all of op(B) for `gemm`'s packedB argument; see gemm_kernel.ts. */
  gemmPackB(
    transB: number,
    n: number,
    k: number,
    b: number,
    ldb: number,
    dst: number,
    kFrom: number,
    kTo: number,
  ): void;
  /** C += P, then the epilogue: the reduction of a product cut along K; see gemm_kernel.ts. */
  gemmAddPartial(c: number, ldcBytes: number, p: number, rows: number, cols: number, bias: number, epilogue: number): void;
  peak(iterations: number, out: number): void;
}

/** Exports workers can run, in a fixed order: a job names its function by index into this list. */
export const kernelNames = [
  "gemm",
  "peak",
  "im2col",
  "col2im",
  "maxPoolF32",
  "addF32Strided",
  "subF32Strided",
  "mulF32Strided",
  "divF32Strided",
  "eqF32Strided",
  "neF32Strided",
  "ltF32Strided",
  "gtF32Strided",
  "leF32Strided",
  "geF32Strided",
  "castU8F32Strided",
  "copyF32Strided",
  "negF32Strided",
  "absF32Strided",
  "squareF32Strided",
  "sqrtF32Strided",
  "rsqrtF32Strided",
  "reciprocalF32Strided",
  "reluF32Strided",
  "sumRowsF32",
  "sumStridedF32",
  "transposeF32",
  "gemmPackB",
  "maxRowsF32",
  "minRowsF32",
  "firstIndexRowsF32",
] as const satisfies readonly (keyof KernelExports)[];
export type KernelName = (typeof kernelNames)[number];

export function buildKernelModule(
  o: KernelModuleOptions,
): Uint8Array<ArrayBuffer> {
  const mb = new ModuleBuilder();
  mb.importMemory({
    module: "env",
    field: "memory",
    initialPages: 1,
    maximumPages: o.maximumPages,
    shared: o.shared,
  });
  emitGemm(mb, o.tiling, o.relaxed);
  emitPeak(mb, o.relaxed);
  emitIm2col(mb);
  emitStridedElementwise(mb);
  emitMaxPool(mb);
  emitExtremeRowKernels(mb);
  return mb.build();
}

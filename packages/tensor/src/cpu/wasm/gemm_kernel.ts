// Generates the SGEMM kernel: C (m×n) = op(A) (m×k) · op(B) (k×n) [+ C], all row-major float32 in the
// module's memory. The structure is the classic one of GotoBLAS/BLIS:
//
//   for jc over n by NC            — a column block of C; its B block (KC×NC) is packed once per pc
//     for pc over k by KC          — K blocking keeps packed panels cache-resident
//       pack B[pc:pc+KC, jc:jc+NC] into NR-wide micro-panels (zero-padded)
//       for ic over m by MC
//         pack A[ic:ic+MC, pc:pc+KC] into MR-tall micro-panels (zero-padded)
//         for jr over NC by NR, ir over MC by MR: micro-kernel (MR×NR tile of C in registers)
//
// The micro-kernel holds a 5×8 tile of C in ten v128 accumulators. Register budget (V8 on x64 allocates
// 15 xmm registers, one more is its scratch): 10 accumulators + 2 B vectors + 1 vector of four A values +
// 1 broadcast = 14, and the plain (mul, then add) path needs one more temporary = 15. A 6×8 tile with
// broadcast loads also fits 15, but needs 8 loads per k step instead of 4; where every load carries a
// software bounds check (Deno) that costs more than the sixth row gains. Packing makes every micro-kernel
// load a sequential stream, and zero padding lets it always compute a full tile; only the store of an edge
// tile is partial. A last column panel of at most four columns goes through a one-vector (5×4) variant instead,
// so n = 100 computes 100 columns rather than 104 (1–2 % of the MLP's x·W1ᵀ; docs/PERFORMANCE.md).
import { InternalError } from "../../errors.ts";
import {
  type FunctionBuilder,
  type Local,
  type ModuleBuilder,
  ValType,
} from "./emitter.ts";

export interface GemmTiling {
  /** Rows of the register tile. */
  readonly mr: number;
  /** Columns of the register tile: two v128 of four floats. Fixed by the kernel's shape. */
  readonly nr: 8;
  /** Depth of one packed panel (K blocking). */
  readonly kc: number;
  /** Rows of A packed at a time; a multiple of mr. */
  readonly mc: number;
  /** Columns of B packed at a time; a multiple of nr. */
  readonly nc: number;
  /** k steps per micro-kernel loop iteration (a power of two). */
  readonly unroll: number;
}

/**
 * Tiling for an engine. Unrolling the k loop by 8 pays off where V8 keeps program order (V8 ≥ 12, e.g.
 * Deno 2, current browsers): it amortises the per-iteration interrupt check and bounds-check set-up.
 * Older V8 (Node 20) hoists all loads of the unrolled body, runs out of registers and spills, so it gets 1.
 * Measured on a 2-core Xeon with AVX-512; see README.md.
 */
export function gemmTilingFor(v8Major: number | undefined): GemmTiling {
  const unroll = v8Major !== undefined && v8Major < 12 ? 1 : 8;
  return { mr: 5, nr: 8, kc: 512, mc: 120, nc: 1024, unroll };
}

/** Floats of private scratch one thread needs: packed A block, packed B block, one edge tile. */
export function gemmWorkFloats(t: GemmTiling): number {
  return t.mc * t.kc + t.kc * t.nc + t.mr * t.nr;
}

const i32 = ValType.i32;

/** Byte offset of block (jc, pc) in a whole packed B: (jc·k + pc·roundUp(nc, 8))·4; NR is 8. */
function packedBlockBytes(
  f: FunctionBuilder,
  jc: Local,
  k: Local,
  pc: Local,
  nc: Local,
): void {
  f.i32Shl(
    () =>
      f.i32Add(
        () => f.i32Mul(jc, k),
        () => f.i32Mul(pc, () => f.i32And(() => f.i32Add(nc, 7), -8)),
      ),
    2,
  );
}

/** Depths of every panel copied per pass when the packed rows are adjacent in memory (see emitPack). */
const PACK_DEPTH = 8;

/**
 * pack(src, strideRow, strideK, rows, kc, dst): copies `rows` rows × `kc` depth into ceil(rows/R)
 * micro-panels laid out [panel][k][R], padding the last panel with zeros. Element (r, kk) of the source is
 * at src + 4·(r·strideRow + kk·strideK), so one function packs A or B, transposed or not.
 */
function emitPack(mb: ModuleBuilder, name: string, R: number): FunctionBuilder {
  const f = mb.func(name, [i32, i32, i32, i32, i32, i32], [], false);
  const [src, strideRow, strideK, rows, kc, dst] = f.params;
  const p = f.local(i32);
  const rowsHere = f.local(i32);
  const s = f.local(i32);
  const q = f.local(i32);
  const d = f.local(i32);
  const e = f.local(i32);
  const kk = f.local(i32);
  const r = f.local(i32);
  const rowBytes = f.local(i32);
  const kBytes = f.local(i32);
  const panelBytes = f.local(i32);
  const kk4 = f.local(i32);
  const [first, k0, depth] = f.locals(i32, 3);
  const rowVec = f.locals(ValType.v128, 4);
  const tmp = f.locals(ValType.v128, 4);

  f.set(rowBytes, () => f.i32Shl(strideRow, 2));
  f.set(kBytes, () => f.i32Shl(strideK, 2));
  f.set(panelBytes, () => f.i32Mul(kc, R * 4));
  f.set(d, dst);
  f.set(first, 0);
  f.if(() => f.i32Eq(strideRow, 1), () => {
    // Rows adjacent in memory (B not transposed, A transposed): the R values of one k are contiguous. Copied as
    // vectors, PACK_DEPTH depths of every full panel at a time rather than all depths of one panel: a panel's
    // depths lie one source row (often a page or more) apart, so walking one panel down all of them touches
    // more pages than the TLB holds — nearly one miss per 32 bytes copied (see README.md).
    f.set(first, () => f.i32Mul(() => f.i32DivU(rows, R), R));
    f.forRange(k0, 0, kc, PACK_DEPTH, () => {
      f.set(depth, () => f.i32MinS(PACK_DEPTH, () => f.i32Sub(kc, k0)));
      f.forRange(p, 0, first, R, () => {
        f.set(s, () => f.i32Add(src, () => f.i32Add(() => f.i32Mul(p, rowBytes), () => f.i32Mul(k0, kBytes))));
        f.set(q, () => f.i32Add(dst, () => f.i32Add(() => f.i32Mul(p, () => f.i32Shl(kc, 2)), () => f.i32Mul(k0, R * 4))));
        f.set(kk, depth);
        f.doWhileDecrement(kk, () => {
          let off = 0;
          for (; off + 16 <= R * 4; off += 16) {
            f.v128Store(off, q, () => f.v128Load(off, s));
          }
          for (; off + 8 <= R * 4; off += 8) {
            f.i64Store(off, q, () => f.i64Load(off, s));
          }
          for (; off < R * 4; off += 4) {
            f.i32Store(off, q, () => f.i32Load(off, s));
          }
          f.inc(s, kBytes);
          f.inc(q, R * 4);
        });
      });
    });
    f.set(d, () => f.i32Add(dst, () => f.i32Mul(() => f.i32DivU(first, R), panelBytes)));
  });
  // Every panel when rows are strided; the zero-padded last panel when they are adjacent.
  f.forRange(p, first, rows, R, () => {
    f.set(rowsHere, () => f.i32MinS(R, () => f.i32Sub(rows, p)));
    f.set(s, () => f.i32Add(src, () => f.i32Mul(p, rowBytes)));
    f.if(() => f.i32Eq(rowsHere, R), () => {
      f.set(kk, kc);
      // Strided rows, contiguous k (A not transposed, B transposed: the common cases). Four k at a
      // time: one v128 load per row, 4×4 transposes in registers, whole-vector stores. Moving floats
      // with shuffles keeps their bits (NaN payloads included).
      f.if(() => f.i32Eq(strideK, 1), () => {
        f.set(kk4, () => f.i32ShrU(kc, 2));
        f.if(kk4, () => {
          f.doWhileDecrement(kk4, () => {
            for (let g = 0; g + 4 <= R; g += 4) {
              f.set(q, () => f.i32Add(s, () => f.i32Mul(rowBytes, g)));
              for (let i = 0; i < 4; i++) {
                f.set(rowVec[i]!, () => f.v128Load(0, q));
                if (i < 3) f.inc(q, rowBytes);
              }
              // [a0 a1 a2 a3] [b..] [c..] [d..] → [a0 b0 a1 b1] [a2 b2 a3 b3] [c0 d0 c1 d1] [c2 d2 c3 d3]
              // (interleave pairs of rows), then → [a0 b0 c0 d0] [a1 b1 c1 d1] … (pair the halves): depth u's four
              // values go to row u of the panel.
              const interleave = [[0, 4, 1, 5], [2, 6, 3, 7]] as const;
              const halves = [[0, 1, 4, 5], [2, 3, 6, 7]] as const;
              for (let t = 0; t < 4; t++) {
                const pair = 2 * (t >> 1);
                f.set(tmp[t]!, () => f.f32x4Shuffle(interleave[t % 2]!, rowVec[pair], rowVec[pair + 1]));
              }
              for (let u = 0; u < 4; u++) {
                f.v128Store(u * R * 4 + g * 4, d, () => f.f32x4Shuffle(halves[u % 2]!, tmp[u >> 1], tmp[(u >> 1) + 2]));
              }
            }
            for (let r = R - (R % 4); r < R; r++) {
              f.set(q, () => f.i32Add(s, () => f.i32Mul(rowBytes, r)));
              for (let i = 0; i < 4; i++) {
                f.i32Store(i * R * 4 + r * 4, d, () => f.i32Load(i * 4, q));
              }
            }
            f.inc(s, 16);
            f.inc(d, 4 * R * 4);
          });
        });
        f.set(kk, () => f.i32And(kc, 3));
      });
      // Gather R scalars per k: the remaining k, or every k when k is strided too.
      f.if(kk, () => {
        f.doWhileDecrement(kk, () => {
          f.set(q, s);
          for (let i = 0; i < R; i++) {
            f.i32Store(i * 4, d, () => f.i32Load(0, q));
            if (i + 1 < R) f.inc(q, rowBytes);
          }
          f.inc(s, kBytes);
          f.inc(d, R * 4);
        });
      });
    }, () => {
      // Edge panel: zero it, then copy the rows that exist.
      f.memoryFill(d, 0, panelBytes);
      f.forRange(r, 0, rowsHere, 1, () => {
        f.set(q, () => f.i32Add(s, () => f.i32Mul(r, rowBytes)));
        f.set(e, () => f.i32Add(d, () => f.i32Shl(r, 2)));
        f.set(kk, kc);
        f.doWhileDecrement(kk, () => {
          f.i32Store(0, e, () => f.i32Load(0, q));
          f.inc(q, kBytes);
          f.inc(e, R * 4);
        });
      });
      f.inc(d, panelBytes);
    });
  });
  return f;
}

/**
 * epilogue(c, ldcBytes, rows, cols, bias, relu): C[r][j] = C[r][j] + bias[j], then max(·, 0) when `relu`, over a
 * rows×cols block at c; the bias is `cols` floats at byte address `bias`. The scalar form, for edge tiles and the
 * empty (k = 0) product. f32.max keeps NaN (relu(NaN) = NaN) and gives +0 for −0, as the relu op does.
 */
function emitEpilogue(mb: ModuleBuilder): FunctionBuilder {
  const f = mb.func("gemmEpilogue", [i32, i32, i32, i32, i32, i32], [], false);
  const [c, ldcBytes, rows, cols, bias, relu] = f.params;
  const [r, j, row, src] = f.locals(i32, 4);
  const v = f.local(ValType.f32);
  f.forRange(r, 0, rows, 1, () => {
    f.set(row, () => f.i32Add(c, () => f.i32Mul(r, ldcBytes)));
    f.set(src, bias);
    f.forRange(j, 0, cols, 1, () => {
      f.set(v, () => f.f32Add(() => f.f32Load(0, row), () => f.f32Load(0, src)));
      f.f32Store(0, row, () => f.select(() => f.f32Max(v, () => f.f32Const(0)), v, relu));
      f.inc(row, 4);
      f.inc(src, 4);
    });
  });
  return f;
}

/**
 * Exported `gemmAddPartial(c, ldcBytes, p, rows, cols, bias, epilogue)`: C[r][j] = C[r][j] + P[r][j] over a rows×cols
 * block, P dense (rows of `cols` floats at byte address p), then the epilogue (GEMM_EPILOGUE, bias at byte address
 * `bias`) on the sum — the last step of a product whose K range was cut in two (see gemm.ts), in the order the
 * uncut product's epilogue runs, so gemm + bias and gemm then add still agree bit for bit. Four columns at a time,
 * then the scalar rest; f32x4.max and f32.max both keep NaN and turn −0 into +0, as the relu op does.
 */
function emitAddPartial(mb: ModuleBuilder): void {
  const f = mb.func("gemmAddPartial", [i32, i32, i32, i32, i32, i32, i32]);
  const [c, ldcBytes, p, rows, cols, bias, epilogue] = f.params;
  const [r, j, row, src, b, vecCols] = f.locals(i32, 6);
  const v = f.local(ValType.v128);
  const x = f.local(ValType.f32);
  f.set(vecCols, () => f.i32And(cols, -4));
  f.set(src, p);
  f.forRange(r, 0, rows, 1, () => {
    f.set(row, () => f.i32Add(c, () => f.i32Mul(r, ldcBytes)));
    f.set(b, bias);
    f.forRange(j, 0, vecCols, 4, () => {
      f.set(v, () => f.f32x4Add(() => f.v128Load(0, row), () => f.v128Load(0, src)));
      f.if(epilogue, () => {
        f.set(v, () => f.f32x4Add(v, () => f.v128Load(0, b)));
        f.if(() => f.i32Eq(epilogue, GEMM_EPILOGUE.biasRelu), () => {
          f.set(v, () => f.f32x4Max(v, () => f.v128Zero()));
        });
      });
      f.v128Store(0, row, v);
      f.inc(row, 16);
      f.inc(src, 16);
      f.inc(b, 16);
    });
    f.forRange(j, vecCols, cols, 1, () => {
      f.set(x, () => f.f32Add(() => f.f32Load(0, row), () => f.f32Load(0, src)));
      f.if(epilogue, () => {
        f.set(x, () => f.f32Add(x, () => f.f32Load(0, b)));
        f.if(() => f.i32Eq(epilogue, GEMM_EPILOGUE.biasRelu), () => {
          f.set(x, () => f.f32Max(x, () => f.f32Const(0)));
        });
      });
      f.f32Store(0, row, x);
      f.inc(row, 4);
      f.inc(src, 4);
      f.inc(b, 4);
    });
  });
}

/** `epilogue` argument of the micro-kernel and of the exported gemm: what happens to C after the last K block. */
export const GEMM_EPILOGUE = { none: 0, bias: 1, biasRelu: 2 } as const;

/**
 * kernel(pa, pb, kc, c, ldcBytes, accumulate, mr, nr, tile, bias, epilogue): C tile (mr×nr ≤ MR×8) at c gets the product
 * of one packed A micro-panel and one packed B micro-panel, added to C when `accumulate` is 1. With an
 * `epilogue` (GEMM_EPILOGUE; only on the last K block) the stored tile then gets the bias row (the tile's nr
 * floats at byte address `bias`) added and, for biasRelu, max(·, 0) — a second pass over the tile while it is
 * still in L1, in the order matmul-then-add computes, so the values equal the composed ops bit for bit.
 *
 * Per k step: two v128 loads of B, one v128 load of four A values that pshufd broadcasts lane by lane, one
 * load32_splat for the fifth row, ten multiply-adds. Fewer loads matter because an engine without
 * trap-handler bounds checks (Deno) pays a compare and branch per memory access.
 */
function emitMicroKernel(
  mb: ModuleBuilder,
  t: GemmTiling,
  relaxed: boolean,
  epilogueFn: FunctionBuilder,
  vectors: 1 | 2,
): FunctionBuilder {
  const MR = t.mr;
  // Columns of the tile: two v128 (NR = 8), or one for the narrow variant (see emitGemm).
  const V = vectors;
  const width = 4 * V;
  const U = t.unroll;
  if ((U & (U - 1)) !== 0) {
    throw new InternalError(
      `gemm tiling: unroll must be a power of two, got ${U}`,
    );
  }
  const f = mb.func(
    V === 2 ? "gemmMicroKernel" : "gemmMicroKernelNarrow",
    [i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32],
    [],
    false,
  );
  const [pa, pb, kc, c, ldcBytes, accumulate, mr, nr, tile, bias, epilogue] = f.params;
  const acc = f.locals(ValType.v128, V * MR);
  const b0 = f.local(ValType.v128);
  const b1 = f.local(ValType.v128);
  const aQuad = f.local(ValType.v128);
  const a = f.local(ValType.v128);
  const kk = f.local(i32);
  const row = f.local(i32);
  const src = f.local(i32);
  const r = f.local(i32);
  const j = f.local(i32);

  // One k step at k offset u within the unrolled body; offsets go in the memarg, not in pointer bumps.
  const step = (u: number) => {
    const aOff = u * MR * 4;
    f.set(b0, () => f.v128Load(u * 32, pb));
    if (V === 2) f.set(b1, () => f.v128Load(u * 32 + 16, pb));
    for (let i = 0; i < MR; i++) {
      if (i % 4 === 0 && i + 4 <= MR) {
        f.set(aQuad, () => f.v128Load(aOff + i * 4, pa));
      }
      if (Math.floor(i / 4) * 4 + 4 <= MR) {
        f.set(a, () => f.f32x4BroadcastLane(i % 4, aQuad));
      } else f.set(a, () => f.v128Load32Splat(aOff + i * 4, pa));
      f.set(acc[V * i], () => f.f32x4MulAdd(relaxed, a, b0, acc[V * i]));
      if (V === 2) {
        f.set(
          acc[2 * i + 1],
          () => f.f32x4MulAdd(relaxed, a, b1, acc[2 * i + 1]),
        );
      }
    }
  };

  for (const x of acc) f.set(x, () => f.v128Zero());
  // Unrolled main loop (helps engines that keep program order; see README), then the kc % U remainder.
  f.set(kk, () => f.i32ShrU(kc, Math.log2(U)));
  f.if(kk, () => {
    f.doWhileDecrement(kk, () => {
      for (let u = 0; u < U; u++) step(u);
      f.inc(pa, U * MR * 4);
      f.inc(pb, U * 32);
    });
  });
  if (U > 1) {
    f.set(kk, () => f.i32And(kc, U - 1));
    f.if(kk, () => {
      f.doWhileDecrement(kk, () => {
        step(0);
        f.inc(pa, MR * 4);
        f.inc(pb, 32);
      });
    });
  }

  f.if(() => f.i32And(() => f.i32Eq(mr, MR), () => f.i32Eq(nr, width)), () => {
    f.set(row, c);
    f.if(accumulate, () => {
      for (let i = 0; i < MR; i++) {
        for (let v = 0; v < V; v++) {
          f.v128Store(
            16 * v,
            row,
            () => f.f32x4Add(() => f.v128Load(16 * v, row), acc[V * i + v]),
          );
        }
        if (i + 1 < MR) f.inc(row, ldcBytes);
      }
    }, () => {
      for (let i = 0; i < MR; i++) {
        for (let v = 0; v < V; v++) f.v128Store(16 * v, row, acc[V * i + v]);
        if (i + 1 < MR) f.inc(row, ldcBytes);
      }
    });
    f.if(epilogue, () => {
      f.set(b0, () => f.v128Load(0, bias));
      if (V === 2) f.set(b1, () => f.v128Load(16, bias));
      const biasVectors = ([[0, b0], [16, b1]] as const).slice(0, V);
      for (const relu of [false, true]) {
        f.if(() => f.i32Eq(epilogue, relu ? GEMM_EPILOGUE.biasRelu : GEMM_EPILOGUE.bias), () => {
          f.set(row, c);
          for (let i = 0; i < MR; i++) {
            for (const [off, bv] of biasVectors) {
              f.v128Store(off, row, () =>
                relu
                  ? f.f32x4Max(() => f.f32x4Add(() => f.v128Load(off, row), bv), () => f.v128Zero())
                  : f.f32x4Add(() => f.v128Load(off, row), bv));
            }
            if (i + 1 < MR) f.inc(row, ldcBytes);
          }
        });
      }
    });
  }, () => {
    // Edge tile: spill the accumulators, then write only the mr×nr part that lies inside C.
    for (let i = 0; i < MR; i++) {
      for (let v = 0; v < V; v++) f.v128Store(i * 32 + 16 * v, tile, acc[V * i + v]);
    }
    f.forRange(r, 0, mr, 1, () => {
      f.set(row, () => f.i32Add(c, () => f.i32Mul(r, ldcBytes)));
      f.set(src, () => f.i32Add(tile, () => f.i32Shl(r, 5)));
      f.forRange(j, 0, nr, 1, () => {
        f.f32Store(0, row, () =>
          f.select(
            () => f.f32Add(() => f.f32Load(0, row), () => f.f32Load(0, src)),
            () => f.f32Load(0, src),
            accumulate,
          ));
        f.inc(row, 4);
        f.inc(src, 4);
      });
    });
    f.if(epilogue, () => {
      f.call(epilogueFn, c, ldcBytes, mr, nr, bias, () => f.i32Eq(epilogue, GEMM_EPILOGUE.biasRelu));
    });
  });
  return f;
}

/**
 * Exported `gemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, beta, work, packedB, bias, epilogue)`. Pointers are byte
 * addresses, leading dimensions are in elements, beta is 0 (overwrite C) or 1 (accumulate into C), and
 * `work` is this thread's scratch of gemmWorkFloats(t) floats. `packedB` is 0, or the whole of op(B) as
 * `gemmPackB` laid it out (then B is not read and not packed again: threads that split C by rows share
 * one packing instead of each re-packing all of B). `epilogue` (GEMM_EPILOGUE) adds the n floats at byte
 * address `bias` to every row of C (then max(·, 0) for biasRelu) as each tile of the last K block is stored.
 *
 * Exported `gemmPackB(transB, n, k, b, ldb, dst, kFrom, kTo)` packs op(B) (k×n) at dst, block (jc, pc) at float
 * jc·k + pc·roundUp(nc, NR): packedFloats(n, k) = roundUp(n, NR)·k floats in all. Only the K blocks with
 * kFrom ≤ pc < kTo (kFrom a multiple of KC) are packed, so threads can pack disjoint ranges of blocks at once.
 */
export function emitGemm(
  mb: ModuleBuilder,
  t: GemmTiling,
  relaxed: boolean,
): void {
  if (t.mc % t.mr !== 0 || t.nc % t.nr !== 0) {
    throw new InternalError(
      `gemm tiling: mc % mr and nc % nr must be 0, got mc ${t.mc}, mr ${t.mr}, nc ${t.nc}, nr ${t.nr}`,
    );
  }
  const packA = emitPack(mb, "gemmPackA", t.mr);
  const packB = emitPack(mb, "gemmPackB", t.nr);
  const epilogueFn = emitEpilogue(mb);
  const kernel = emitMicroKernel(mb, t, relaxed, epilogueFn, 2);
  const narrowKernel = emitMicroKernel(mb, t, relaxed, epilogueFn, 1);
  emitAddPartial(mb);

  const whole = mb.func("gemmPackB", Array(8).fill(i32));
  {
    const [transB, n, k, b, ldb, dst, kFrom, kTo] = whole.params;
    const [sBk, sBj, jc, nc, pc, kc] = whole.locals(i32, 6);
    whole.set(sBk, () => whole.select(1, ldb, transB));
    whole.set(sBj, () => whole.select(ldb, 1, transB));
    whole.forRange(jc, 0, n, t.nc, () => {
      whole.set(nc, () => whole.i32MinS(t.nc, () => whole.i32Sub(n, jc)));
      whole.forRange(pc, kFrom, kTo, t.kc, () => {
        whole.set(kc, () => whole.i32MinS(t.kc, () => whole.i32Sub(k, pc)));
        whole.call(
          packB,
          () =>
            whole.i32Add(b, () =>
              whole.i32Shl(
                () =>
                  whole.i32Add(
                    () => whole.i32Mul(pc, sBk),
                    () => whole.i32Mul(jc, sBj),
                  ),
                2,
              )),
          sBj,
          sBk,
          nc,
          kc,
          () => whole.i32Add(dst, () => packedBlockBytes(whole, jc, k, pc, nc)),
        );
      });
    });
  }

  const f = mb.func("gemm", Array(16).fill(i32));
  const [
    transA,
    transB,
    m,
    n,
    k,
    a,
    lda,
    b,
    ldb,
    c,
    ldc,
    beta,
    work,
    packedWhole,
    bias,
    epilogue,
  ] = f.params;
  const epilogueHere = f.local(i32);
  const ownPackedB = f.local(i32);
  const [sAi, sAk, sBk, sBj] = f.locals(i32, 4);
  const [jc, nc, pc, kc, ic, mc, jr, ir, accumulate] = f.locals(i32, 9);
  const [packedA, packedB, tile, ldcBytes, cBlock, pbPanel, i] = f.locals(
    i32,
    7,
  );

  f.if(
    () => f.i32Or(() => f.i32LtS(m, 1), () => f.i32LtS(n, 1)),
    () => f.return(),
  );
  f.set(ldcBytes, () => f.i32Shl(ldc, 2));
  f.if(() => f.i32LtS(k, 1), () => {
    // An empty sum: C = 0 when overwriting, C unchanged when accumulating.
    f.if(() => f.i32Eqz(beta), () => {
      f.forRange(i, 0, m, 1, () => {
        f.memoryFill(
          () => f.i32Add(c, () => f.i32Mul(i, ldcBytes)),
          0,
          () => f.i32Shl(n, 2),
        );
      });
    });
    f.if(epilogue, () => {
      f.call(epilogueFn, c, ldcBytes, m, n, bias, () => f.i32Eq(epilogue, GEMM_EPILOGUE.biasRelu));
    });
    f.return();
  });

  // Element strides of op(A) (row i, depth kk) and op(B) (depth kk, column j).
  f.set(sAi, () => f.select(1, lda, transA));
  f.set(sAk, () => f.select(lda, 1, transA));
  f.set(sBk, () => f.select(1, ldb, transB));
  f.set(sBj, () => f.select(ldb, 1, transB));
  f.set(packedA, work);
  f.set(ownPackedB, () => f.i32Add(work, t.mc * t.kc * 4));
  f.set(tile, () => f.i32Add(ownPackedB, t.kc * t.nc * 4));

  f.forRange(jc, 0, n, t.nc, () => {
    f.set(nc, () => f.i32MinS(t.nc, () => f.i32Sub(n, jc)));
    f.forRange(pc, 0, k, t.kc, () => {
      f.set(kc, () => f.i32MinS(t.kc, () => f.i32Sub(k, pc)));
      // Later K blocks always add to what the first one wrote.
      f.set(accumulate, () => f.i32Or(beta, () => f.i32GtS(pc, 0)));
      // The bias (and ReLU) go on with the last K block, when C holds the whole sum.
      f.set(epilogueHere, () => f.select(epilogue, 0, () => f.i32GeS(() => f.i32Add(pc, kc), k)));
      f.if(packedWhole, () => {
        f.set(
          packedB,
          () => f.i32Add(packedWhole, () => packedBlockBytes(f, jc, k, pc, nc)),
        );
      }, () => {
        f.set(packedB, ownPackedB);
        f.call(
          packB,
          () =>
            f.i32Add(
              b,
              () =>
                f.i32Shl(
                  () =>
                    f.i32Add(() => f.i32Mul(pc, sBk), () => f.i32Mul(jc, sBj)),
                  2,
                ),
            ),
          sBj,
          sBk,
          nc,
          kc,
          packedB,
        );
      });
      f.forRange(ic, 0, m, t.mc, () => {
        f.set(mc, () => f.i32MinS(t.mc, () => f.i32Sub(m, ic)));
        f.call(
          packA,
          () =>
            f.i32Add(
              a,
              () =>
                f.i32Shl(
                  () =>
                    f.i32Add(() => f.i32Mul(ic, sAi), () => f.i32Mul(pc, sAk)),
                  2,
                ),
            ),
          sAi,
          sAk,
          mc,
          kc,
          packedA,
        );
        f.forRange(jr, 0, nc, t.nr, () => {
          f.set(
            pbPanel,
            () => f.i32Add(packedB, () => f.i32Mul(jr, () => f.i32Shl(kc, 2))),
          );
          f.set(
            cBlock,
            () =>
              f.i32Add(
                c,
                () =>
                  f.i32Shl(
                    () =>
                      f.i32Add(() => f.i32Mul(ic, ldc), () => f.i32Add(jc, jr)),
                    2,
                  ),
              ),
          );
          // A last panel of at most four columns (n = 100 leaves four) goes through the one-vector kernel, which
          // does half the multiply-adds of padding it to eight.
          f.forRange(ir, 0, mc, t.mr, () => {
            const call = (fn: FunctionBuilder) =>
              f.call(
                fn,
                () =>
                  f.i32Add(packedA, () => f.i32Mul(ir, () => f.i32Shl(kc, 2))),
                pbPanel,
                kc,
                () => f.i32Add(cBlock, () => f.i32Mul(ir, ldcBytes)),
                ldcBytes,
                accumulate,
                () => f.i32MinS(t.mr, () => f.i32Sub(mc, ir)),
                () => f.i32MinS(t.nr, () => f.i32Sub(nc, jr)),
                tile,
                () => f.i32Add(bias, () => f.i32Shl(() => f.i32Add(jc, jr), 2)),
                epilogueHere,
              );
            f.if(() => f.i32LeS(() => f.i32Sub(nc, jr), 4), () => call(narrowKernel), () => call(kernel));
          });
        });
      });
    });
  });
}

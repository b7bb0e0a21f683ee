// A multiply-add loop with no memory traffic: the ceiling any float32 kernel in this engine can reach.
// Benchmarks print GEMM speed as a fraction of it, which says more than GFLOP/s alone across machines.
import { type ModuleBuilder, ValType } from "./emitter.ts";

/** Accumulator chains in flight: enough to hide the multiply-add latency at two issues per cycle. */
export const peakChains = 12;

/** Floating-point operations one iteration of `peak` performs: chains × 4 lanes × (mul + add). */
export const peakFlopsPerIteration = peakChains * 4 * 2;

/**
 * Exported `peak(iterations, out)`: runs independent acc = acc·x + y chains and stores the accumulators
 * at `out` (peakChains·16 bytes) so the work is observable and cannot be removed.
 */
export function emitPeak(mb: ModuleBuilder, relaxed: boolean): void {
  const f = mb.func("peak", [ValType.i32, ValType.i32]);
  const [iterations, out] = f.params;
  const acc = f.locals(ValType.v128, peakChains);
  const x = f.local(ValType.v128);
  const y = f.local(ValType.v128);
  // x slightly below 1 and y small keep every chain finite and normal however long it runs.
  f.set(x, () => f.f32x4Splat(() => f.f32Const(0.9999999)));
  f.set(y, () => f.f32x4Splat(() => f.f32Const(1e-7)));
  acc.forEach((a, i) =>
    f.set(a, () => f.f32x4Splat(() => f.f32Const(i / peakChains)))
  );
  f.if(() => f.i32LtS(iterations, 1), () => f.return());
  f.doWhileDecrement(iterations, () => {
    for (const a of acc) f.set(a, () => f.f32x4MulAdd(relaxed, a, x, y));
  });
  acc.forEach((a, i) => f.v128Store(i * 16, out, a));
}

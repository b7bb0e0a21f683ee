// Generates elementwise float32 kernels: 16 elements (four v128) per loop trip, then a scalar tail.
// These are memory-bound; what SIMD buys is doing the arithmetic at memory speed with no per-element
// JavaScript overhead. All take byte addresses and an element count; out may alias an input.
import {
  type FunctionBuilder,
  type Local,
  type ModuleBuilder,
  ValType,
} from "./emitter.ts";

const i32 = ValType.i32;

type VectorOp = (f: FunctionBuilder, x: () => void, y: () => void) => void;
type ScalarOp = (f: FunctionBuilder, x: () => void, y: () => void) => void;

/**
 * Emits the loop body for out[i] = op(a[i], b[i]) over `count` elements, advancing a, b (if given) and out.
 * Shared by the binary, unary and row-broadcast kernels.
 */
function emitStream(
  f: FunctionBuilder,
  a: Local,
  b: Local | undefined,
  out: Local,
  count: Local,
  vector: VectorOp,
  scalar: ScalarOp,
): void {
  const end16 = f.local(i32);
  const end = f.local(i32);
  // Loop bounds as addresses of `a`: one compare per trip, no index arithmetic.
  f.set(end, () => f.i32Add(a, () => f.i32Shl(count, 2)));
  f.set(
    end16,
    () => f.i32Add(a, () => f.i32Shl(() => f.i32And(count, ~15), 2)),
  );
  f.block((exit) => {
    f.loop((top) => {
      f.brIf(exit, () => f.i32GeU(a, end16));
      for (let o = 0; o < 64; o += 16) {
        f.v128Store(o, out, () =>
          vector(f, () => f.v128Load(o, a), () => {
            if (b) f.v128Load(o, b);
          }));
      }
      f.inc(a, 64);
      if (b) f.inc(b, 64);
      f.inc(out, 64);
      f.br(top);
    });
  });
  f.block((exit) => {
    f.loop((top) => {
      f.brIf(exit, () => f.i32GeU(a, end));
      f.f32Store(0, out, () =>
        scalar(f, () => f.f32Load(0, a), () => {
          if (b) f.f32Load(0, b);
        }));
      f.inc(a, 4);
      if (b) f.inc(b, 4);
      f.inc(out, 4);
      f.br(top);
    });
  });
}

/** name(a, b, out, n): out[i] = op(a[i], b[i]). */
function emitBinary(
  mb: ModuleBuilder,
  name: string,
  vector: VectorOp,
  scalar: ScalarOp,
): void {
  const f = mb.func(name, [i32, i32, i32, i32]);
  const [a, b, out, n] = f.params;
  emitStream(f, a, b, out, n, vector, scalar);
}

/** name(x, out, n): out[i] = op(x[i]). */
function emitUnary(
  mb: ModuleBuilder,
  name: string,
  vector: VectorOp,
  scalar: ScalarOp,
): void {
  const f = mb.func(name, [i32, i32, i32]);
  const [x, out, n] = f.params;
  emitStream(f, x, undefined, out, n, vector, scalar);
}

export function emitElementwise(mb: ModuleBuilder): void {
  emitBinary(
    mb,
    "addF32",
    (f, x, y) => f.f32x4Add(x, y),
    (f, x, y) => f.f32Add(x, y),
  );
  emitBinary(
    mb,
    "subF32",
    (f, x, y) => f.f32x4Sub(x, y),
    (f, x, y) => f.f32Sub(x, y),
  );
  emitBinary(
    mb,
    "mulF32",
    (f, x, y) => f.f32x4Mul(x, y),
    (f, x, y) => f.f32Mul(x, y),
  );
  // f32x4.max, not pmax: relu(NaN) stays NaN, as in PyTorch.
  emitUnary(
    mb,
    "reluF32",
    (f, x) => f.f32x4Max(x, () => f.v128Zero()),
    (f, x) => f.f32Max(x, () => f.f32Const(0)),
  );
  // reluBackwardF32(x, dy, dx, n): dx = x > 0 ? dy : 0, as a mask so there is no branch.
  emitBinary(
    mb,
    "reluBackwardF32",
    (f, x, dy) => f.v128And(dy, () => f.f32x4Gt(x, () => f.v128Zero())),
    (f, x, dy) =>
      f.select(dy, () => f.f32Const(0), () => f.f32Gt(x, () => f.f32Const(0))),
  );

  // addRowF32(x, row, out, rows, cols): out[i, j] = x[i, j] + row[j] — the bias add of a linear layer.
  const f = mb.func("addRowF32", [i32, i32, i32, i32, i32]);
  const [x, row, out, rows, cols] = f.params;
  const i = f.local(i32);
  const r = f.local(i32);
  f.forRange(i, 0, rows, 1, () => {
    f.set(r, row);
    emitStream(
      f,
      x,
      r,
      out,
      cols,
      (g, p, q) => g.f32x4Add(p, q),
      (g, p, q) => g.f32Add(p, q),
    );
  });
}

/** Export names of the elementwise kernels and their JavaScript signatures. */
export interface ElementwiseExports {
  addF32(a: number, b: number, out: number, n: number): void;
  subF32(a: number, b: number, out: number, n: number): void;
  mulF32(a: number, b: number, out: number, n: number): void;
  reluF32(x: number, out: number, n: number): void;
  reluBackwardF32(x: number, dy: number, dx: number, n: number): void;
  addRowF32(
    x: number,
    row: number,
    out: number,
    rows: number,
    cols: number,
  ): void;
}

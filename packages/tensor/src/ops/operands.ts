import type { DType } from "../dtype.ts";
import { promoteTypes, promoteWithScalar } from "../dtype.ts";
import { DeviceError, DTypeError, fmtShape } from "../errors.ts";
import { NDArray } from "../ndarray.ts";
import { broadcastShapes, shapesEqual } from "../shape.ts";

/** An operand of an elementwise operation: an array, or a plain JS number/boolean (a "weak" scalar). */
export type Operand = NDArray | number | boolean;

/** Checks that every array operand lives on one device and is alive; returns that device's arrays' backend. */
export function sameDevice(op: string, ...xs: NDArray[]): void {
  const first = xs[0]!;
  for (const x of xs) {
    x.assertAlive(op);
    if (x.device !== first.device) {
      throw new DeviceError(
        `${op}: operands are on different devices ("${first.device}" and "${x.device}"); move one with .to()`,
      );
    }
  }
}

/** The dtype two operands compute in (weak typing for JS numbers, as PyTorch treats Python scalars). */
export function resultDtype(a: Operand, b: Operand): DType {
  if (a instanceof NDArray && b instanceof NDArray) {
    // A 0-d array combined with a higher-rank one behaves like a scalar of its category: it decides the dtype
    // only when its category (bool < integer < float) is higher, as in PyTorch's result_type.
    if ((a.ndim === 0) !== (b.ndim === 0)) {
      const [zero, dim] = a.ndim === 0 ? [a, b] : [b, a];
      return CATEGORY[zero.dtype] > CATEGORY[dim.dtype] ? zero.dtype : dim.dtype;
    }
    return promoteTypes(a.dtype, b.dtype);
  }
  if (a instanceof NDArray) return promoteWithScalar(a.dtype, b as number | boolean);
  if (b instanceof NDArray) return promoteWithScalar(b.dtype, a as number | boolean);
  // Two plain values (where(cond, 1, 0)): the smallest dtype that holds both.
  const bothBool = typeof a === "boolean" && typeof b === "boolean";
  return bothBool ? "bool" : Number.isInteger(Number(a)) && Number.isInteger(Number(b)) ? "int32" : "float32";
}

const CATEGORY: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 2 };

/** Turns a JS number into a 0-d array on `like`'s device. */
export function scalarArray(value: number | boolean, dtype: DType, like: NDArray): NDArray {
  const v = typeof value === "boolean" ? (value ? 1 : 0) : value;
  return new NDArray(like.backend.full(dtype, 1, v), []);
}

/**
 * `x` broadcast to `shape`: `x` itself when it has that shape already, else a stride-0 view the caller disposes
 * (`x !== result`). Skipping the view matters: most operands already have the result's shape, and a view is a
 * new array with its own scope entry.
 */
export function broadcastTo(x: NDArray, shape: readonly number[]): NDArray {
  return shapesEqual(x.shape, shape) ? x : x.expand(shape);
}

/**
 * Resolves two operands of a binary op: both arrays on one device, broadcast to a common shape (as stride-0
 * views where the shape differs). The caller disposes `temporaries` (the views and the 0-d arrays made from JS
 * numbers) after the kernel ran.
 */
export function broadcastPair(op: string, a: Operand, b: Operand, dtype: DType) {
  const like = a instanceof NDArray ? a : b instanceof NDArray ? b : null;
  if (!like) throw new DTypeError(`${op}: needs at least one array operand`);
  const temporaries: NDArray[] = [];
  const toArray = (x: Operand): NDArray => {
    if (x instanceof NDArray) return x;
    const s = scalarArray(x, dtype, like);
    temporaries.push(s);
    return s;
  };
  const A = toArray(a), B = toArray(b);
  sameDevice(op, A, B);
  const shape = broadcastShapes(op, A.shape, B.shape);
  const av = broadcastTo(A, shape), bv = broadcastTo(B, shape);
  if (av !== A) temporaries.push(av);
  if (bv !== B) temporaries.push(bv);
  return { a: av, b: bv, shape, temporaries };
}

export function requireFloat(op: string, x: NDArray): void {
  if (x.dtype !== "float32" && x.dtype !== "float64") {
    throw new DTypeError(`${op}: needs a float32 or float64 array, got ${x.dtype} of shape ${fmtShape(x.shape)}`);
  }
}

export function disposeAll(xs: NDArray[]): void {
  for (const x of xs) x.dispose();
}

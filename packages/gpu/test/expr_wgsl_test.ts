/**
 * The WGSL of every op-table entry, float32 and int32, is rendered from the table's expression (no hand-written
 * case per op); ops without an integer meaning are refused on int32 with a DTypeError. Values are checked on the
 * device by the conformance suite (conformance_test.ts); this file needs no GPU.
 */
import { BINARY_OP_NAMES, binaryDef, DTypeError, E, UNARY_OP_NAMES, unaryDef } from "@backprop/tensor";
import { renderConditionI32, renderWgslI32 } from "../src/kernels/expr_wgsl.ts";
import { unaryKernel } from "../src/kernels/unary.ts";
import { binaryKernel } from "../src/kernels/binary.ts";

Deno.test("expr_wgsl: int32 WGSL for every integer-keeping unary op and every binary op", () => {
  for (const op of UNARY_OP_NAMES) {
    const spec = unaryKernel(op, "int32", unaryDef(op).bool ? "bool" : "int32", 1);
    if (unaryDef(op).ints === "keep") {
      if (!spec.source().includes("out[i] =")) throw new Error(`${op}: no store in the int32 kernel`);
    } else {
      let error: unknown;
      try {
        spec.source();
      } catch (e) {
        error = e;
      }
      if (!(error instanceof DTypeError) || !error.message.includes(`${op} is not defined on int32`)) {
        throw new Error(`${op} on int32: expected a DTypeError naming the op, got ${error}`);
      }
    }
  }
  for (const op of BINARY_OP_NAMES) binaryKernel(op, "int32", "int32", binaryDef(op).bool ? "bool" : "int32", 1, false, false).source();
});

Deno.test("expr_wgsl: int32 rendering of the primitives (rounding is the identity, no NaN tests)", () => {
  const leaves = { input: (i: number) => (i === 0 ? "a" : "b"), param: () => "0i" };
  const x = E.input(0), y = E.input(1);
  const cases: [string, string][] = [
    [renderWgslI32(E.floor(x), leaves), "a"],
    [renderWgslI32(E.select(E.le(x, 0), 0, x), leaves), "select(a, 0i, (a <= 0i))"],
    [renderWgslI32(E.mul(x, -1), leaves), "(a * (-1i))"],
    [renderConditionI32(E.and(x, y), leaves), "(a != 0i && b != 0i)"],
    [renderWgslI32(E.max(x, y), leaves), "max(a, b)"],
  ];
  for (const [got, want] of cases) if (got !== want) throw new Error(`rendered ${got}, expected ${want}`);
  let error: unknown;
  try {
    renderWgslI32(E.add(x, 0.5), leaves);
  } catch (e) {
    error = e;
  }
  if (!(error instanceof DTypeError)) throw new Error(`a fractional constant in int32 WGSL: expected a DTypeError, got ${error}`);
});

// Elementwise kernels against plain loops: every length class (vector body, scalar tail, empty), operands
// in and out of the kernels' memory, in-place use, and NaN handling.
import fc from "fast-check";
import { expect, test } from "vitest";
import {
  addF32,
  addRowF32,
  mulF32,
  reluBackwardF32,
  reluF32,
  subF32,
  wasmAlloc,
} from "../src/cpu/wasm/mod.ts";

const values = fc.float32Array({
  noDefaultInfinity: true,
  minLength: 0,
  maxLength: 70,
});

function inMemory(x: Float32Array) {
  const buf = wasmAlloc(x.length);
  buf.view.set(x);
  return buf;
}

const binaries = [
  { name: "add", fn: addF32, ref: (x: number, y: number) => x + y },
  { name: "sub", fn: subF32, ref: (x: number, y: number) => x - y },
  { name: "mul", fn: mulF32, ref: (x: number, y: number) => x * y },
  {
    name: "reluBackward",
    fn: reluBackwardF32,
    ref: (x: number, y: number) => (x > 0 ? y : 0),
  },
];

test.each(binaries)(
  "$name matches a float32 loop, in and out of kernel memory, in place",
  ({ fn, ref }) => {
    fc.assert(
      fc.property(values, fc.integer(), (a, seed) => {
        const b = Float32Array.from(
          a,
          (_, i) => ((i * 7919 + seed) % 200) / 8 - 12,
        );
        const want = Float32Array.from(a, (x, i) => ref(x, b[i]!));
        const plain = new Float32Array(a.length);
        fn(a, b, plain);
        expect(plain).toEqual(want);
        const [A, B, O] = [inMemory(a), inMemory(b), wasmAlloc(a.length)];
        fn(A.view, B.view, O.view);
        expect(O.view).toEqual(want);
        fn(A.view, B.view, A.view); // out aliases the first operand
        expect(A.view).toEqual(want);
        [A, B, O].forEach((x) => x.free());
      }),
      { numRuns: 60 },
    );
  },
);

test("relu keeps NaN, maps -0 and negatives to 0, in and out of kernel memory", () => {
  fc.assert(
    fc.property(values, (x) => {
      const withNaN = Float32Array.from([...x, NaN, -0, -1]);
      const want = withNaN.map((v) => (Number.isNaN(v) ? NaN : Math.max(v, 0)));
      const out = new Float32Array(withNaN.length);
      reluF32(withNaN, out);
      expect(out).toEqual(want);
      const X = inMemory(withNaN);
      reluF32(X.view, X.view);
      expect(X.view).toEqual(want);
      X.free();
    }),
    { numRuns: 40 },
  );
});

test("addRow adds the row to every row; rejects a length that is not a multiple", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 9 }),
      fc.integer({ min: 1, max: 37 }),
      (rows, cols) => {
        const x = Float32Array.from({ length: rows * cols }, (_, i) => i / 3);
        const row = Float32Array.from({ length: cols }, (_, j) => -j * 1.5);
        const want = x.map((v, i) => v + row[i % cols]!);
        const out = new Float32Array(x.length);
        addRowF32(x, row, out);
        expect(out).toEqual(want);
        const [X, R] = [inMemory(x), inMemory(row)];
        addRowF32(X.view, R.view, X.view);
        expect(X.view).toEqual(want);
        X.free();
        R.free();
      },
    ),
    { numRuns: 40 },
  );
  expect(() =>
    addRowF32(new Float32Array(7), new Float32Array(2), new Float32Array(7))
  ).toThrow(/multiple/);
  expect(() =>
    addF32(new Float32Array(3), new Float32Array(4), new Float32Array(3))
  ).toThrow(/lengths 3, 4, 3/);
});

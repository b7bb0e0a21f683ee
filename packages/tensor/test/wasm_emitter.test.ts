// The byte-level module builder: encodings that the kernels rely on, checked by running emitted code.
import { expect, test } from "vitest";
import { ModuleBuilder, ValType } from "../src/cpu/wasm/emitter.ts";

function instantiate(
  mb: ModuleBuilder,
  memory?: WebAssembly.Memory,
): Record<string, (...a: number[]) => number> {
  const bytes = mb.build();
  expect(WebAssembly.validate(bytes)).toBe(true);
  return new WebAssembly.Instance(
    new WebAssembly.Module(bytes),
    memory ? { env: { memory } } : {},
  )
    .exports as Record<string, (...a: number[]) => number>;
}

test("signed and unsigned LEB128 constants round-trip", () => {
  const mb = new ModuleBuilder();
  const values = [
    0,
    1,
    -1,
    63,
    64,
    -64,
    -65,
    127,
    128,
    8191,
    -8192,
    2 ** 31 - 1,
    -(2 ** 31),
  ];
  values.forEach((v, i) => mb.func(`c${i}`, [], [ValType.i32]).i32Const(v));
  const ex = instantiate(mb);
  values.forEach((v, i) => expect(ex[`c${i}`]!()).toBe(v));
});

test("structured control: forRange, nested labels, select-based min", () => {
  const mb = new ModuleBuilder();
  // Sum of min(i, 10) for i in [start, end), stepping by 3, leaving the outer block early when i ≥ 40.
  const f = mb.func("sum", [ValType.i32, ValType.i32], [ValType.i32]);
  const [start, end] = f.params;
  const i = f.local(ValType.i32);
  const acc = f.local(ValType.i32);
  f.block((out) => {
    f.forRange(i, start, end, 3, () => {
      f.brIf(out, () => f.i32GeS(i, 40));
      f.set(acc, () => f.i32Add(acc, () => f.i32MinS(i, 10)));
    });
  });
  f.get(acc);
  const ex = instantiate(mb);
  const want = (s: number, e: number) => {
    let a = 0;
    for (let j = s; j < e && j < 40; j += 3) a += Math.min(j, 10);
    return a;
  };
  for (const [s, e] of [[0, 0], [0, 1], [2, 30], [-5, 100]] as const) {
    expect(ex.sum!(s, e)).toBe(want(s, e));
  }
});

test("SIMD multiply-add, lane broadcast and memory imports", () => {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
  const mb = new ModuleBuilder();
  mb.importMemory({
    module: "env",
    field: "memory",
    initialPages: 1,
    maximumPages: 65536,
    shared: false,
  });
  // out[0..4] = broadcast(a[lane]) * b + c
  const f = mb.func("fma", [ValType.i32]);
  const [lane] = f.params;
  for (let l = 0; l < 4; l++) {
    f.if(() => f.i32Eq(lane, l), () => {
      f.v128Store(
        48,
        0,
        () =>
          f.f32x4MulAdd(
            false,
            () => f.f32x4BroadcastLane(l, () => f.v128Load(0, 0)),
            () => f.v128Load(16, 0),
            () => f.v128Load(32, 0),
          ),
      );
    });
  }
  const ex = instantiate(mb, memory);
  const v = new Float32Array(memory.buffer);
  v.set([1, 2, 3, 4, 10, 20, 30, 40, 0.5, 0.5, 0.5, 0.5]);
  for (let l = 0; l < 4; l++) {
    ex.fma!(l);
    expect(Array.from(v.subarray(12, 16))).toEqual(
      [10, 20, 30, 40].map((x) => x * (l + 1) + 0.5),
    );
  }
});

/** Conformance of `alloc`, `upload`, `read`, `full` and `copy` (casts, clones, transfers) and of the creation functions. */
import fc from "fast-check";
import { DTYPES, type DType, type TypedArray } from "../../dtype.ts";
import * as create from "../../ops/creation.ts";
import { ConformanceError, expectMatches } from "../compare.ts";
import { type CaseContext, type ConformanceCase, evaluate, propertyCase } from "../context.ts";
import { describe, inputArb, materialize, refOf, shapeArb, specialValueArb, valuesArb } from "../arbitraries.ts";
import { refArray, refCast, sizeOfShape, storeAs } from "../reference.ts";

function dtypesOf(ctx: CaseContext): DType[] {
  return DTYPES.filter((d) => d !== "float64" || ctx.floatDtypes.includes("float64"));
}

/** Casts between every pair of dtypes, clones and `contiguous()` of strided views. */
function castCase(ctx: CaseContext): ConformanceCase {
  const dtypes = dtypesOf(ctx);
  // Values within int32 range, with fractions, so float → int truncation toward zero is visible. NaN and ±∞ have
  // no int32 value (PyTorch's conversion is undefined behaviour in C++), so casts to int32 go without them.
  const arb = fc.record({ from: fc.constantFrom(...dtypes), to: fc.constantFrom(...dtypes), shape: shapeArb() })
    .chain(({ from, to, shape }) => inputArb(shape, from, { min: -1000, max: 1000, special: to !== "int32" }).map((x) => ({ x, to })));
  return propertyCase(ctx, "copy: cast between dtypes, clone and contiguous of strided views", arb, async ({ x, to }) => {
    const ref = refOf(x);
    await evaluate(
      () => {
        const a = materialize(x, ctx.device);
        const c = a.contiguous();
        if (!c.isContiguous()) throw new ConformanceError(`contiguous(${describe(x)}) returned a non-contiguous array`);
        return [a.cast(to, true), a.clone(), c];
      },
      ([cast, clone, contiguous], [castValues, cloneValues, contiguousValues]) => {
        expectMatches(`cast(${describe(x)} → ${to})`, cast!, castValues!, refCast(ref, to), ctx.tolerance(to, "cast"), true);
        expectMatches(`clone(${describe(x)})`, clone!, cloneValues!, ref, { rtol: 0, atol: 0 }, true);
        expectMatches(`contiguous(${describe(x)})`, contiguous!, contiguousValues!, ref, { rtol: 0, atol: 0 }, true);
      },
    );
  });
}

/** Moving arrays to the CPU and back (`toAsync`), when the device under test is another one. */
function transferCase(ctx: CaseContext): ConformanceCase {
  const arb = fc.record({ dtype: fc.constantFrom(...dtypesOf(ctx)), shape: shapeArb() }).chain(({ dtype, shape }) => inputArb(shape, dtype));
  return propertyCase(ctx, "copy: transfer to the CPU and back", arb, async (x) => {
    const a = materialize(x, ctx.device);
    const onCpu = await a.toAsync("cpu");
    const back = await onCpu.toAsync(ctx.device);
    try {
      const ref = refOf(x);
      const [v1, v2] = await Promise.all([onCpu.data(), back.data()]);
      expectMatches(`toAsync("cpu") of ${describe(x)}`, onCpu, v1, ref, { rtol: 0, atol: 0 }, true);
      expectMatches(`toAsync("${ctx.device}") of ${describe(x)}`, back, v2, ref, { rtol: 0, atol: 0 }, true);
      if (onCpu.device !== "cpu" || back.device !== ctx.device) throw new ConformanceError(`toAsync: wrong device`);
    } finally {
      for (const t of new Set([a, onCpu, back])) t.dispose();
    }
  });
}

/** `full` for every dtype (the fill value converted like a stored value), with `zeros`/`ones`/`*Like`. */
function fullCase(ctx: CaseContext): ConformanceCase {
  const finite = fc.oneof(fc.integer({ min: -100, max: 100 }), fc.double({ min: -100, max: 100, noNaN: true }), fc.constantFrom(0, 1, 0.5, -2.5));
  const arb = fc.record({ dtype: fc.constantFrom(...dtypesOf(ctx)), shape: shapeArb() }).chain(({ dtype, shape }) =>
    fc.record({
      dtype: fc.constant(dtype),
      shape: fc.constant(shape),
      // Float arrays also take NaN, ±∞ and −0 as fill values.
      value: dtype === "float32" || dtype === "float64" ? fc.oneof({ weight: 4, arbitrary: finite }, { weight: 1, arbitrary: specialValueArb(dtype) }) : finite,
    })
  );
  return propertyCase(ctx, "full: zeros, ones, full and the *Like variants of every dtype", arb, async ({ dtype, shape, value }) => {
    const n = sizeOfShape(shape);
    const filled = (v: number) => refArray(shape, dtype, new Array<number>(n).fill(storeAs(dtype, v)));
    await evaluate(
      () => {
        const f = create.full(shape, value, { dtype, device: ctx.device });
        return [f, create.zeros(shape, { dtype, device: ctx.device }), create.ones(shape, { dtype, device: ctx.device }), create.fullLike(f, 3), create.zerosLike(f), create.onesLike(f)];
      },
      (arrays, values) => {
        const expected = [filled(value), filled(0), filled(1), filled(3), filled(0), filled(1)];
        const names = [`full(${value})`, "zeros", "ones", "fullLike(3)", "zerosLike", "onesLike"];
        arrays.forEach((a, i) => {
          if (a.device !== ctx.device) throw new ConformanceError(`${names[i]}: created on "${a.device}", expected "${ctx.device}"`);
          expectMatches(`${names[i]} ${dtype} [${shape.join(", ")}]`, a, values[i]!, expected[i]!, { rtol: 0, atol: 0 }, true);
        });
      },
    );
  });
}

/** `upload` of JS numbers and of typed arrays of another type, converted to the requested dtype. */
function uploadCase(ctx: CaseContext): ConformanceCase {
  const sources = ["array", "Float32Array", "Float64Array", "Int32Array", "Uint8Array"] as const;
  const arb = fc.record({ dtype: fc.constantFrom(...dtypesOf(ctx)), source: fc.constantFrom(...sources), shape: shapeArb() })
    .chain(({ dtype, source, shape }) =>
      valuesArb(source === "Uint8Array" ? "bool" : source === "Int32Array" ? "int32" : "float64", sizeOfShape(shape), { min: -300, max: 300 })
        .map((values) => ({ dtype, source, shape, values }))
    );
  return propertyCase(ctx, "upload: JS arrays and typed arrays converted to every dtype", arb, async ({ dtype, source, shape, values }) => {
    let data: TypedArray | number[];
    switch (source) {
      case "array": data = values; break;
      case "Float32Array": data = Float32Array.from(values); break;
      case "Float64Array": data = Float64Array.from(values); break;
      case "Int32Array": data = Int32Array.from(values); break;
      case "Uint8Array": data = Uint8Array.from(values); break;
    }
    const stored = Array.from(data as ArrayLike<number>, (v) => storeAs(dtype, v));
    await evaluate(
      () => [create.tensor(data, { dtype, device: ctx.device, shape })],
      ([a], [v]) => expectMatches(`tensor(${source} → ${dtype}, [${shape.join(", ")}])`, a!, v!, refArray(shape, dtype, stored), { rtol: 0, atol: 0 }),
    );
  });
}

/** `arange`, `linspace` and `eye` on the device. */
function rangesCase(ctx: CaseContext): ConformanceCase {
  const arb = fc.record({
    start: fc.integer({ min: -5, max: 5 }),
    count: fc.integer({ min: 0, max: 12 }),
    step: fc.constantFrom(1, 2, -1, 0.5, -0.25),
    n: fc.integer({ min: 0, max: 5 }),
    m: fc.integer({ min: 0, max: 5 }),
    dtype: fc.constantFrom(...ctx.floatDtypes),
  });
  return propertyCase(ctx, "creation: arange, linspace, eye", arb, async ({ start, count, step, n, m, dtype }) => {
    const end = start + count * step;
    const aType: DType = Number.isInteger(step) ? "int32" : "float32";
    const arangeRef = refArray([count], aType, Array.from({ length: count }, (_, i) => start + i * step));
    const linRef = refArray([count], dtype, Array.from({ length: count }, (_, i) => (count === 1 ? start : start + ((end - start) * i) / (count - 1))));
    const eyeRef = refArray([n, m], dtype, Array.from({ length: n * m }, (_, i) => (Math.floor(i / m) === i % m ? 1 : 0)));
    await evaluate(
      () => [
        create.arange(start, end, step, { device: ctx.device }),
        create.linspace(start, end, count, { dtype, device: ctx.device }),
        create.eye(n, m, { dtype, device: ctx.device }),
      ],
      ([a, l, e], [av, lv, ev]) => {
        expectMatches(`arange(${start}, ${end}, ${step})`, a!, av!, arangeRef, ctx.tolerance(aType, "arange"));
        expectMatches(`linspace(${start}, ${end}, ${count})`, l!, lv!, linRef, ctx.tolerance(dtype, "linspace"));
        expectMatches(`eye(${n}, ${m})`, e!, ev!, eyeRef, { rtol: 0, atol: 0 });
      },
    );
  });
}

export function copyCases(ctx: CaseContext): ConformanceCase[] {
  const cases = [castCase(ctx), fullCase(ctx), uploadCase(ctx), rangesCase(ctx)];
  if (ctx.device !== "cpu") cases.push(transferCase(ctx));
  return cases;
}

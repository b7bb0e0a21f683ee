/** Conformance of the `random` kernel: the exact Philox stream, the word → value mapping, determinism and moments. */
import fc from "fast-check";
import * as create from "../../ops/creation.ts";
import { Generator } from "../../random.ts";
import { ConformanceError, expectMatches } from "../compare.ts";
import { type CaseContext, type ConformanceCase, evaluate, propertyCase } from "../context.ts";
import { refArray } from "../reference.ts";
import { refBlocksFor, refNormal, refStreamWords, refUniform } from "../reference_philox.ts";

/** A generator state: any 64-bit key and a block counter that may exceed 2³² (the counter's high word matters). */
const stateArb = fc.record({
  key: fc.tuple(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff })),
  counter: fc.oneof(fc.nat({ max: 1000 }), fc.integer({ min: 2 ** 32 - 3, max: 2 ** 32 + 3 }), fc.nat({ max: 2 ** 45 })),
});

function generatorAt(state: { key: [number, number]; counter: number }): Generator {
  const g = new Generator();
  g.setState(state);
  return g;
}

function meanAndVariance(values: ArrayLike<number>): { mean: number; variance: number } {
  let s = 0, sq = 0;
  for (let i = 0; i < values.length; i++) s += values[i]!;
  const mean = s / values.length;
  for (let i = 0; i < values.length; i++) sq += (values[i]! - mean) ** 2;
  return { mean, variance: sq / (values.length - 1) };
}

export function randomCases(ctx: CaseContext): ConformanceCase[] {
  const streamArb = fc.record({ state: stateArb, dtype: fc.constantFrom(...ctx.floatDtypes), size: fc.integer({ min: 0, max: 67 }), rank: fc.integer({ min: 0, max: 2 }) });
  const momentsArb = fc.record({ seed: fc.nat(), dtype: fc.constantFrom(...ctx.floatDtypes) });
  return [
    propertyCase(ctx, "random: uniform and normal reproduce the Philox-4x32-10 stream exactly", streamArb, async ({ state, dtype, size, rank }) => {
      const shape = rank === 0 ? (size === 1 ? [] : [size]) : rank === 1 ? [size] : [1, size];
      const n = shape.reduce((a, b) => a * b, 1);
      const g = generatorAt(state);
      const uniformRef = refArray(shape, dtype, refUniform(dtype, n, state.key, state.counter));
      const afterUniform = state.counter + refBlocksFor(dtype, n);
      const normalRef = refArray(shape, dtype, refNormal(dtype, n, state.key, afterUniform));
      const what = `${dtype} [${shape.join(", ")}] from key ${state.key}, block ${state.counter}`;
      await evaluate(
        () => {
          const u = create.rand(shape, { dtype, generator: g, device: ctx.device });
          if (g.counter !== afterUniform) {
            throw new ConformanceError(`rand(${what}) advanced the generator to block ${g.counter}, expected ${afterUniform}`);
          }
          return [u, create.randn(shape, { dtype, generator: g, device: ctx.device })];
        },
        ([u, z], [uv, zv]) => {
          expectMatches(`rand(${what})`, u!, uv!, uniformRef, ctx.tolerance(dtype, "rand"));
          expectMatches(`randn(${what})`, z!, zv!, normalRef, ctx.tolerance(dtype, "randn"));
        },
      );
    }),
    propertyCase(ctx, "random: seeded generators are deterministic; uniform/normal/randint/randperm derive from the stream", fc.record({ seed: fc.nat(), dtype: fc.constantFrom(...ctx.floatDtypes), size: fc.integer({ min: 1, max: 40 }) }), async ({ seed, dtype, size }) => {
      const run = () => {
        const g = new Generator(seed);
        return [
          create.uniform([size], -2, 3, { dtype, generator: g, device: ctx.device }),
          create.normal([size], 1, 0.5, { dtype, generator: g, device: ctx.device }),
          create.randint(-3, 7, [size], { generator: g, device: ctx.device }),
          create.randperm(size, { generator: g, device: ctx.device }),
        ];
      };
      const key: [number, number] = [seed >>> 0, Math.floor(seed / 2 ** 32)];
      const u = refUniform(dtype, size, key, 0).map((v) => v * 5 - 2);
      const b1 = refBlocksFor(dtype, size);
      const z = refNormal(dtype, size, key, b1).map((v) => v * 0.5 + 1);
      const b2 = b1 + refBlocksFor(dtype, size);
      const ints = refStreamWords(key, b2, size).map((w) => -3 + Math.floor((w / 2 ** 32) * 10));
      await evaluate(
        () => [...run(), ...run()],
        (arrays, values) => {
          expectMatches(`uniform(seed ${seed}, ${dtype}, -2, 3)`, arrays[0]!, values[0]!, refArray([size], dtype, u), ctx.tolerance(dtype, "uniform"));
          expectMatches(`normal(seed ${seed}, ${dtype}, 1, 0.5)`, arrays[1]!, values[1]!, refArray([size], dtype, z), ctx.tolerance(dtype, "normal"));
          expectMatches(`randint(seed ${seed}, -3, 7)`, arrays[2]!, values[2]!, refArray([size], "int32", ints), { rtol: 0, atol: 0 });
          const perm = Array.from(values[3]!).sort((a, b) => a - b);
          if (perm.some((v, i) => v !== i)) throw new ConformanceError(`randperm(${size}) is not a permutation: ${values[3]}`);
          for (let i = 0; i < 4; i++) {
            const a = values[i]!, b = values[i + 4]!;
            if (a.length !== b.length || a.some((v, j) => !Object.is(v, b[j]))) {
              throw new ConformanceError(`${["uniform", "normal", "randint", "randperm"][i]}: two generators seeded ${seed} gave different values`);
            }
          }
        },
      );
    }),
    propertyCase(ctx, "random: moments of 20000 uniform and normal values", momentsArb, async ({ seed, dtype }) => {
      const n = 20000;
      await evaluate(
        () => {
          const g = new Generator(seed);
          return [create.rand([n], { dtype, generator: g, device: ctx.device }), create.randn([n], { dtype, generator: g, device: ctx.device })];
        },
        (_, [u, z]) => {
          // Bounds at about six standard errors: a correct generator essentially never fails them.
          const mu = meanAndVariance(u!), mz = meanAndVariance(z!);
          const problems: string[] = [];
          if (Math.abs(mu.mean - 0.5) > 0.013) problems.push(`uniform mean ${mu.mean}`);
          if (Math.abs(mu.variance - 1 / 12) > 0.004) problems.push(`uniform variance ${mu.variance}`);
          if (Math.abs(mz.mean) > 0.045) problems.push(`normal mean ${mz.mean}`);
          if (Math.abs(mz.variance - 1) > 0.065) problems.push(`normal variance ${mz.variance}`);
          if (Array.from(u!).some((v) => !(v >= 0 && v < 1))) problems.push("uniform values outside [0, 1)");
          if (Array.from(z!).some((v) => !Number.isFinite(v))) problems.push("non-finite normal values");
          if (problems.length) throw new ConformanceError(`random moments (${dtype}, seed ${seed}): ${problems.join(", ")}`);
        },
      );
    }, Math.max(2, ctx.numRuns / 8)),
  ];
}

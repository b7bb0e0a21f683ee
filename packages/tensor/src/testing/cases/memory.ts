/** Conformance of storage ownership: `release` and `memory()` account for every storage, views share theirs. */
import { Generator } from "../../random.ts";
import * as create from "../../ops/creation.ts";
import { keep, tidy } from "../../scope.ts";
import { ConformanceError, expectMatches } from "../compare.ts";
import { type CaseContext, type ConformanceCase, simpleCase } from "../context.ts";
import { refArray } from "../reference.ts";

function same(a: { storages: number; bytes: number }, b: { storages: number; bytes: number }): boolean {
  return a.storages === b.storages && a.bytes === b.bytes;
}

export function memoryCases(ctx: CaseContext): ConformanceCase[] {
  const opts = { device: ctx.device };
  return [
    simpleCase(ctx, "memory: views share one storage, freed when the last user is disposed", async () => {
      const before = ctx.backend.memory();
      const a = create.tensor([1, 2, 3, 4, 5, 6], { ...opts, dtype: "float32", shape: [2, 3] });
      const afterCreate = ctx.backend.memory();
      if (afterCreate.storages !== before.storages + 1 || afterCreate.bytes < before.bytes + 24) {
        throw new ConformanceError(`memory(): creating a [2, 3] float32 array went from ${JSON.stringify(before)} to ${JSON.stringify(afterCreate)}`);
      }
      const t = a.transpose();
      const v = t.slice(0, 1, undefined, 1);
      t.dispose();
      a.dispose();
      a.dispose();
      if (!a.isDisposed || ctx.backend.memory().storages !== before.storages + 1) {
        throw new ConformanceError("memory(): disposing an array whose storage a view still uses must not free the storage");
      }
      expectMatches("a view after its base was disposed", v, await v.data(), refArray([2, 2], "float32", [2, 5, 3, 6]), { rtol: 0, atol: 0 });
      v.dispose();
      if (!same(ctx.backend.memory(), before)) {
        throw new ConformanceError(`memory(): ${JSON.stringify(ctx.backend.memory())} after disposing everything, expected ${JSON.stringify(before)}`);
      }
    }),
    simpleCase(ctx, "memory: flat across 50 steps of work inside tidy", async () => {
      const g = new Generator(7);
      const w = keep(create.randn([8, 8], { ...opts, generator: g }));
      const before = ctx.backend.memory();
      let last = 0;
      for (let step = 0; step < 50; step++) {
        const loss = tidy(() => {
          const x = create.randn([4, 8], { ...opts, generator: g });
          const h = x.matmul(w).relu().add(x.mul(0.5)).softmax(-1);
          const y = h.sum(1).sub(1).square().mean();
          return y;
        });
        // Read once at the end only: reading every step would cost a device round trip each.
        if (step === 49) last = (await loss.data())[0]!;
        loss.dispose();
        if (!same(ctx.backend.memory(), before)) {
          throw new ConformanceError(`memory(): step ${step} left ${JSON.stringify(ctx.backend.memory())}, expected ${JSON.stringify(before)}`);
        }
      }
      w.dispose();
      if (!Number.isFinite(last)) throw new ConformanceError(`the loop computed ${last}`);
    }),
    simpleCase(ctx, "memory: tidy keeps returned arrays (nested in arrays, objects, Maps) and kept ones", () => {
      const before = ctx.backend.memory().storages;
      const result = tidy(() => {
        const a = create.ones([2], opts);
        const b = create.zeros([3], opts);
        const c = keep(create.full([1], 5, opts));
        create.ones([4], opts);
        const inner = tidy(() => ({ d: create.ones([5], opts), e: create.ones([6], opts).sum() }));
        return { list: [a], map: new Map([["b", b]]), c, d: inner.d };
      });
      const alive = [result.list[0]!, result.map.get("b")!, result.c, result.d];
      if (alive.some((x) => x.isDisposed)) throw new ConformanceError("tidy disposed an array it returned or one passed to keep()");
      if (ctx.backend.memory().storages !== before + 4) {
        throw new ConformanceError(`tidy left ${ctx.backend.memory().storages - before} storages, expected the 4 returned/kept ones`);
      }
      for (const x of alive) x.dispose();
    }),
  ];
}

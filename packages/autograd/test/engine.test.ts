import { describe, expect, test } from "vitest";
import * as T from "@backprop/tensor";
import {
  concat,
  conv2d,
  enableGrad,
  Function,
  type FunctionCtx,
  GraphError,
  isGradEnabled,
  maxPool2d,
  type Node,
  noGrad,
  Tensor,
  tensor,
} from "../src/mod.ts";
import { check, leaf } from "./helpers.ts";

const values = (t: Tensor | null): number[] => Array.from(t!.dataSync());

/** Every node reachable from `root`'s graph. */
function graphNodes(root: Tensor): Node[] {
  const seen = new Set<Node>();
  const stack = root.gradFn ? [root.gradFn] : [];
  while (stack.length) {
    const node = stack.pop()!;
    if (seen.has(node)) continue;
    seen.add(node);
    for (const input of node.inputs) if (input?.gradFn) stack.push(input.gradFn);
  }
  return [...seen];
}

describe("leaves, non-leaves and requiresGrad", () => {
  test("operations on tensors that require a gradient record a node; others do not", () => {
    const x = leaf([1, 2], [2]);
    const c = tensor([3, 4], { dtype: "float64" });
    expect(x.isLeaf).toBe(true);
    const y = x.mul(c);
    expect(y.isLeaf).toBe(false);
    expect(y.requiresGrad).toBe(true);
    expect(y.gradFn!.name).toBe("mul");
    expect(y.toString()).toContain("gradFn=<mul>");
    const z = c.mul(c);
    expect(z.requiresGrad).toBe(false);
    expect(z.gradFn).toBeNull();
  });

  test("integer and bool results carry no graph", () => {
    const x = leaf([0.5, -1.5, 2.5], [3]);
    for (const out of [x.gt(0), x.eq(x), x.argmax(), x.argmin(0, true), x.cast("int32"), x.cast("bool")]) {
      expect(out.requiresGrad).toBe(false);
      expect(out.gradFn).toBeNull();
      expect(() => out.sum().backward()).toThrow(GraphError);
    }
  });

  test("only float tensors can require a gradient", () => {
    const i = tensor([1, 2], { dtype: "int32" });
    expect(() => i.requiresGrad_()).toThrow(T.DTypeError);
    expect(() => i.requiresGrad_()).toThrow(/only float tensors can require gradients, got int32 \[2\]/);
    expect(() => tensor([true], { dtype: "bool", requiresGrad: true })).toThrow(T.DTypeError);
    expect(tensor([1], { dtype: "float32" }).requiresGrad_().requiresGrad).toBe(true);
    expect(i.requiresGrad_(false).requiresGrad).toBe(false);
  });

  test("a non-leaf cannot stop requiring a gradient (detach instead)", () => {
    const y = leaf([1], [1]).mul(2);
    expect(() => y.requiresGrad_(false)).toThrow(GraphError);
    expect(() => y.requiresGrad_(false)).toThrow(/use detach\(\)/);
  });
});

describe("backward", () => {
  test("a scalar needs no gradient; a non-scalar needs one of its shape", () => {
    const x = leaf([1, 2, 3], [3]);
    const y = x.mul(x);
    expect(() => y.backward()).toThrow(GraphError);
    expect(() => y.backward()).toThrow(/gradient is needed for a non-scalar tensor of shape \[3\]/);
    expect(() => y.backward(T.ones([2], { dtype: "float64" }))).toThrow(/the gradient has shape \[2\], the tensor \[3\]/);
    y.backward(tensor([1, 10, 100], { dtype: "float64" }));
    expect(values(x.grad)).toEqual([2, 40, 600]);
    // A size-1 tensor of any rank counts as a scalar.
    const z = leaf([3], [1, 1]);
    z.mul(z).backward();
    expect(values(z.grad)).toEqual([6]);
  });

  test("a tensor without a graph cannot backpropagate", () => {
    const c = tensor([1], { dtype: "float64" });
    expect(() => c.backward()).toThrow(GraphError);
    expect(() => c.backward()).toThrow(/does not require a gradient/);
  });

  test("backward from a leaf fills its own grad", () => {
    const x = leaf([5], []);
    x.backward();
    expect(values(x.grad)).toEqual([1]);
  });

  test("gradients accumulate across backward calls until zeroGrad", () => {
    const x = leaf([1, 2], [2]);
    x.mul(2).sum().backward();
    x.mul(3).sum().backward();
    expect(values(x.grad)).toEqual([5, 5]);
    x.zeroGrad();
    expect(x.grad).toBeNull();
    x.mul(x).sum().backward();
    expect(values(x.grad)).toEqual([2, 4]);
  });

  test("a tensor used many times (diamond graphs) gets the sum of every path", () => {
    const x = leaf([1.5, -0.5], [2]);
    const a = x.mul(2); // used by three consumers below
    const y = a.mul(a).add(a.exp()).add(a.sum());
    y.sum().backward();
    const expected = [1.5, -0.5].map((v) => 2 * (2 * 2 * v + Math.exp(2 * v) + 2));
    values(x.grad).forEach((g, i) => expect(g).toBeCloseTo(expected[i]!, 12));
    check((x) => {
      const a = x.sin();
      const b = a.mul(x);
      return concat([a.add(b), b.mul(a).sub(x)], 0);
    }, [leaf([0.3, -1.1, 2], [3])]);
  });

  test("a node runs its backward once, after every consumer has contributed (reverse topological order)", () => {
    let calls = 0;
    class Counted extends Function {
      static override forward(_ctx: FunctionCtx, x: Tensor): Tensor {
        return x.clone();
      }
      static override backward(_ctx: FunctionCtx, g: Tensor): Tensor {
        calls++;
        return g;
      }
    }
    const x = leaf([1, 2], [2]);
    const y = Counted.apply(x);
    const z = y.mul(y).add(y.mul(3).exp().mul(y)).sum().add(y.sum());
    z.backward();
    expect(calls).toBe(1);
    const expected = [1, 2].map((v) => 2 * v + Math.exp(3 * v) * (1 + 3 * v) + 1);
    values(x.grad).forEach((g, i) => expect(g).toBeCloseTo(expected[i]!, 9));
  });

  test("a gradient has its input's dtype, also when the operation computed in a promoted one", () => {
    const x = tensor([1, 2], { dtype: "float32", requiresGrad: true });
    const y = tensor([3, 4], { dtype: "float64", requiresGrad: true });
    const z = x.mul(y); // float64
    expect(z.dtype).toBe("float64");
    concat([z, x], 0).sum().backward(tensor(1, { dtype: "float32" }));
    expect(x.grad!.dtype).toBe("float32");
    expect(y.grad!.dtype).toBe("float64");
    expect(values(x.grad)).toEqual([4, 5]);
    expect(values(y.grad)).toEqual([1, 2]);
  });

  test("retainGrad keeps the gradient of a non-leaf; other non-leaves keep none", () => {
    const x = leaf([1, 2], [2]);
    const y = x.mul(3).retainGrad();
    const z = y.mul(y);
    const loss = z.sum().retainGrad();
    loss.backward();
    expect(values(y.grad)).toEqual([6, 12]);
    expect(values(loss.grad)).toEqual([1]);
    expect(z.grad).toBeNull();
    expect(values(x.grad)).toEqual([18, 36]);
  });
});

describe("retainGraph and freeing the graph", () => {
  test("a second backward through a freed graph throws a GraphError that names the fix", () => {
    const x = leaf([1, 2], [2]);
    const y = x.mul(x).sum();
    y.backward(undefined, { retainGraph: true });
    y.backward(); // the retained graph can be used once more, and is freed now
    expect(values(x.grad)).toEqual([4, 8]);
    expect(() => y.backward()).toThrow(GraphError);
    expect(() => y.backward()).toThrow(/already freed by an earlier backward; pass \{ retainGraph: true \}/);
    expect(values(x.grad)).toEqual([4, 8]);
  });

  test("a new graph built on a freed part of an old one cannot backpropagate through that part", () => {
    const x = leaf([1, 2], [2]);
    const shared = x.exp();
    shared.sum().backward();
    expect(() => shared.mul(2).sum().backward()).toThrow(/"exp" was already freed/);
  });

  test("backward drops every node's saved state unless the graph is retained", () => {
    const x = leaf([0.5, 1.5, -1, 2], [2, 2]);
    const w = leaf([1, -1, 0.5, 2], [2, 2]);
    const build = () => x.matmul(w).tanh().softmax().mul(x).sum();
    const kept = build();
    kept.backward(undefined, { retainGraph: true });
    const keptNodes = graphNodes(kept);
    expect(keptNodes.length).toBeGreaterThan(4);
    expect(keptNodes.every((n) => n.backward !== null)).toBe(true);
    const freed = build();
    freed.backward();
    expect(graphNodes(freed).every((n) => n.backward === null)).toBe(true);
  });

  test("a deep chain of 10,000 operations backpropagates without a stack overflow", () => {
    const x = leaf([1], []);
    let y = x;
    for (let i = 0; i < 5_000; i++) y = y.mul(0.9999).add(0.0001);
    y.backward();
    expect(x.grad!.itemSync()).toBeCloseTo(0.9999 ** 5_000, 12);
    expect(graphNodes(y).length).toBe(10_000);
  });
});

describe("detach and noGrad", () => {
  test("detach shares the data but cuts the graph", () => {
    const x = leaf([1, 2], [2]);
    const y = x.mul(x);
    const d = y.detach();
    expect(d.isLeaf).toBe(true);
    expect(d.requiresGrad).toBe(false);
    expect(d.value.storage).toBe(y.value.storage);
    // z = x² · stop(x²): only the first factor carries a gradient, 2x · x².
    y.mul(d).sum().backward();
    expect(values(x.grad)).toEqual([2, 16]);
  });

  test("noGrad records nothing, restores the mode (also after a throw), and enableGrad reopens recording", () => {
    const x = leaf([1, 2], [2]);
    const y = noGrad(() => {
      expect(isGradEnabled()).toBe(false);
      const inside = enableGrad(() => x.mul(2));
      expect(inside.requiresGrad).toBe(true);
      return x.mul(2).exp();
    });
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    expect(isGradEnabled()).toBe(true);
    expect(() => noGrad(() => {
      throw new Error("boom");
    })).toThrow("boom");
    expect(isGradEnabled()).toBe(true);
  });

  test("noGrad refuses an async function (it only scopes synchronous code)", () => {
    expect(() => noGrad(() => Promise.resolve(1))).toThrow(/returned a Promise/);
    expect(isGradEnabled()).toBe(true);
  });
});

describe("memory", () => {
  test("inside tidy, a forward + backward leaves only the (kept) leaf gradients behind", () => {
    const memory = () => T.cpuBackend.memory().storages;
    const x = leaf(Array.from({ length: 2 * 1 * 5 * 5 }, (_, i) => Math.sin(i)), [2, 1, 5, 5], "contiguous", false);
    const w = leaf(Array.from({ length: 3 * 1 * 3 * 3 }, (_, i) => Math.cos(i)), [3, 1, 3, 3]);
    const b = leaf([0.1, -0.2, 0.3], [3]);
    const labels = T.tensor([0, 2], { dtype: "int32" });
    const step = () =>
      T.tidy(() => {
        const h = maxPool2d(conv2d(x, w, b, { padding: 1 }).relu(), 2);
        const logits = h.flatten(1).reshape([2, 3, 4]).sum(2);
        const loss = logits.logSoftmax().gather(1, labels.unsqueeze(1)).mean().neg();
        loss.backward();
      });
    const start = memory();
    step();
    // The two leaf gradients, kept by the engine, are all that is new.
    expect(memory()).toBe(start + 2);
    expect(w.grad!.isDisposed).toBe(false);
    // Accumulating into an existing gradient replaces its array: memory stays flat over steps.
    for (let i = 0; i < 3; i++) step();
    expect(memory()).toBe(start + 2);
    w.zeroGrad();
    b.zeroGrad();
    expect(memory()).toBe(start);
  });

  test("Tensor.dispose frees the data and the gradient", () => {
    const x = leaf([1, 2], [2]);
    x.mul(x).sum().backward();
    const grad = x.grad!;
    x.dispose();
    expect(x.isDisposed).toBe(true);
    expect(grad.isDisposed).toBe(true);
  });
});

describe("a leaf takes over a gradient made for it alone", () => {
  /** x ↦ 2x whose backward hands out, for each input, the arrays `pick` chooses from a fresh 2g (recorded). */
  function doubler(pick: (fresh: T.NDArray, incoming: T.NDArray) => T.NDArray[], made: T.NDArray[]) {
    return class Doubler extends Function {
      static override forward(_ctx: FunctionCtx, ...xs: Tensor[]): Tensor {
        return xs.reduce((s, x) => s.add(x.mul(2)), xs[0]!.mul(0));
      }
      static override backward(_ctx: FunctionCtx, g: Tensor): Tensor[] {
        const fresh = g.value.mul(2);
        made.push(fresh);
        return pick(fresh, g.value).map((a) => new Tensor(a));
      }
    };
  }

  test("inside tidy, a fresh gradient becomes the grad itself and outlives the scope", () => {
    const made: T.NDArray[] = [];
    const Doubler = doubler((fresh) => [fresh], made);
    const x = leaf([1, -2, 3], [3]);
    T.tidy(() => Doubler.apply(x).mul(tensor([1, 10, 100], { dtype: "float64" })).sum().backward());
    expect(x.grad!.value).toBe(made[0]);
    expect(made[0]!.isDisposed).toBe(false);
    expect(values(x.grad)).toEqual([2, 20, 200]);
  });

  test("one array returned for two leaves: each gets its own, disposing one leaves the other", () => {
    const made: T.NDArray[] = [];
    const Doubler = doubler((fresh) => [fresh, fresh], made);
    const a = leaf([1, 2], [2]), b = leaf([3, 4], [2]);
    T.tidy(() => Doubler.apply(a, b).sum().backward());
    expect(a.grad!.value).not.toBe(b.grad!.value);
    a.grad!.dispose();
    expect(values(b.grad)).toEqual([2, 2]);
  });

  test("one array returned for a leaf and for a non-leaf that feeds the same leaf again", () => {
    const made: T.NDArray[] = [];
    const Doubler = doubler((fresh) => [fresh, fresh], made);
    const a = leaf([1, 2], [2]);
    // y = 2a + 2(3a): dy/da = 2 + 6 = 8, the second part through the non-leaf 3a after a got its first share.
    T.tidy(() => Doubler.apply(a, a.mul(3)).sum().backward());
    expect(values(a.grad)).toEqual([8, 8]);
    expect(a.grad!.value).not.toBe(made[0]);
  });

  test("one array returned for a non-leaf and a leaf that gets another share before the non-leaf's rule runs", () => {
    const made: T.NDArray[] = [];
    // Rules: 2g for the first and last input, g itself for the middle one.
    const Rule = doubler((fresh, incoming) => [fresh, incoming, fresh], made);
    const a = leaf([1, 2], [2]);
    // The engine runs Rule, then 5a's rule (a gets a share), then 3a's rule, which still reads Rule's first
    // gradient: a must not have taken that array over. da = 3·2 + 5·1 + 2 = 13.
    T.tidy(() => Rule.apply(a.mul(3), a.mul(5), a).sum().backward());
    expect(values(a.grad)).toEqual([13, 13]);
  });

  test("a gradient passed through from the node's own, or made outside tidy, is copied", () => {
    const made: T.NDArray[] = [];
    const Through = doubler((_fresh, incoming) => [incoming], made);
    const x = leaf([1, 2], [2]);
    let seed: T.NDArray | undefined;
    T.tidy(() => {
      seed = T.ones([2], { dtype: "float64" });
      Through.apply(x).backward(seed);
    });
    expect(seed!.isDisposed).toBe(true);
    expect(values(x.grad)).toEqual([1, 1]);

    const Doubler = doubler((fresh) => [fresh], made);
    const z = leaf([1, 2], [2]);
    Doubler.apply(z).sum().backward();
    expect(z.grad!.value).not.toBe(made[made.length - 1]);
    expect(values(z.grad)).toEqual([2, 2]);
  });

  test("a kept array returned by a backward rule stays its owner's", () => {
    const owned = T.full([2], 5, { dtype: "float64" }).keep();
    const Kept = doubler(() => [owned], []);
    const x = leaf([1, 2], [2]);
    T.tidy(() => Kept.apply(x).sum().backward());
    expect(x.grad!.value).not.toBe(owned);
    owned.dispose();
    expect(values(x.grad)).toEqual([5, 5]);
  });
});

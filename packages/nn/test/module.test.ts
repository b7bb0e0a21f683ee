import { describe, expect, test } from "vitest";
import { type Tensor, tensor } from "@backprop/autograd";
import * as T from "@backprop/tensor";
import {
  BatchNorm1d,
  Conv2d,
  Linear,
  Module,
  ModuleError,
  ModuleList,
  Parameter,
  ReLU,
  Sequential,
  StateDictError,
} from "../src/mod.ts";
import { liveStorages, values } from "./helpers.ts";

class Block extends Module {
  conv1: Conv2d;
  bn1: BatchNorm1d;
  constructor(seed: number) {
    super();
    this.conv1 = new Conv2d(2, 3, 3, { generator: new T.Generator(seed) });
    this.bn1 = new BatchNorm1d(3);
  }
}

class Net extends Module {
  scale: Parameter;
  block: Block;
  heads: ModuleList;
  tail: Sequential;
  notAParameter = 3;
  constructor(seed = 0) {
    super();
    this.scale = new Parameter(T.ones([1]));
    this.block = new Block(seed);
    this.heads = new ModuleList([new Linear(4, 2), new Linear(4, 3)]);
    this.tail = new Sequential(new Linear(3, 3), new ReLU(), new Linear(3, 1));
  }
}

describe("Module registration and names", () => {
  test("parameters, buffers and children are found from fields, with PyTorch's dotted names in declaration order", () => {
    const net = new Net();
    expect(net.namedParameters().map(([n]) => n)).toEqual([
      "scale",
      "block.conv1.weight",
      "block.conv1.bias",
      "block.bn1.weight",
      "block.bn1.bias",
      "heads.0.weight",
      "heads.0.bias",
      "heads.1.weight",
      "heads.1.bias",
      "tail.0.weight",
      "tail.0.bias",
      "tail.2.weight",
      "tail.2.bias",
    ]);
    expect(net.namedBuffers().map(([n]) => n)).toEqual([
      "block.bn1.running_mean",
      "block.bn1.running_var",
      "block.bn1.num_batches_tracked",
    ]);
    expect(net.namedChildren().map(([n]) => n)).toEqual(["block", "heads", "tail"]);
    expect(net.namedModules().map(([n]) => n)).toEqual([
      "", "block", "block.conv1", "block.bn1", "heads", "heads.0", "heads.1", "tail", "tail.0", "tail.1", "tail.2",
    ]);
    expect(net.children()).toHaveLength(3);
    expect(net.modules()).toHaveLength(11);
    expect(net.parameters().every((p) => p instanceof Parameter && p.requiresGrad)).toBe(true);
    expect(Object.keys(net.stateDict())).toEqual([
      "scale",
      "block.conv1.weight",
      "block.conv1.bias",
      "block.bn1.weight",
      "block.bn1.bias",
      "block.bn1.running_mean",
      "block.bn1.running_var",
      "block.bn1.num_batches_tracked",
      "heads.0.weight",
      "heads.0.bias",
      "heads.1.weight",
      "heads.1.bias",
      "tail.0.weight",
      "tail.0.bias",
      "tail.2.weight",
      "tail.2.bias",
    ]);
  });

  test("a shared parameter is listed once; registerParameter/registerModule/registerBuffer take any name", () => {
    class Tied extends Module {
      a = new Linear(2, 2);
      b: Linear;
      constructor() {
        super();
        this.b = this.a;
        this.registerParameter("odd-name", new Parameter(T.zeros([2])));
        this.registerModule("extra", new ReLU());
        this.registerBuffer("steps", T.zeros([], { dtype: "int32" }));
      }
    }
    const m = new Tied();
    // Own parameters come before those of sub-modules, as in PyTorch.
    expect(m.namedParameters().map(([n]) => n)).toEqual(["odd-name", "a.weight", "a.bias"]);
    expect(m.namedChildren().map(([n]) => n)).toEqual(["a", "b", "extra"]);
    expect(m.namedBuffers().map(([n]) => n)).toEqual(["steps"]);
    expect(() => m.registerBuffer("a", T.zeros([1]))).toThrow(/already has a member named "a"/);
    expect(() => m.registerBuffer("x.y", T.zeros([1]))).toThrow(/no "\."/);
    expect(() => m.getBuffer("nope")).toThrow(/no buffer "nope" \(buffers: steps\)/);
  });

  test("a plain array of modules is an error that points to ModuleList", () => {
    class Bad extends Module {
      layers = [new Linear(1, 1)];
    }
    expect(() => new Bad().parameters()).toThrow(ModuleError);
    expect(() => new Bad().parameters()).toThrow(/Bad\.layers is a plain array.*ModuleList/);
  });

  test("Sequential chains forward; ModuleList has none; both index and iterate", () => {
    const seq = new Sequential(new Linear(2, 3, { generator: new T.Generator(1) }), new ReLU());
    const x = tensor([[1, -1]], { dtype: "float32" });
    const l = seq.at(0) as Linear;
    const expected = l.forward(x).relu();
    expect(values(seq.forward(x))).toEqual(values(expected));
    expect(seq.length).toBe(2);
    expect([...seq]).toHaveLength(2);
    expect(() => seq.at(5)).toThrow(/out of range/);
    const list = new ModuleList().append(new ReLU()).extend([new ReLU()]);
    expect(list.length).toBe(2);
    expect(list.at(-1)).toBeInstanceOf(ReLU);
    expect(() => list.forward(x)).toThrow(/ModuleList\.forward is not implemented/);
  });

  test("train() and eval() set the mode of every module; apply visits children first", () => {
    const net = new Net();
    expect(net.modules().every((m) => m.training)).toBe(true);
    expect(net.eval()).toBe(net);
    expect(net.modules().some((m) => m.training)).toBe(false);
    net.train();
    expect(net.block.bn1.training).toBe(true);
    const order: string[] = [];
    net.tail.apply((m) => order.push(m.constructor.name));
    expect(order).toEqual(["Linear", "ReLU", "Linear", "Sequential"]);
  });

  test("zeroGrad disposes and clears every gradient", () => {
    const lin = new Linear(3, 2);
    T.tidy(() => lin.forward(tensor([[1, 2, 3]], { dtype: "float32" })).sum().backward());
    const grads = lin.parameters().map((p) => p.grad!);
    expect(grads.every((g) => g && !g.isDisposed)).toBe(true);
    lin.zeroGrad();
    expect(lin.parameters().every((p) => p.grad === null)).toBe(true);
    expect(grads.every((g) => g.isDisposed)).toBe(true);
  });

  test("parameters and buffers survive tidy scopes", () => {
    const lin = T.tidy(() => new Linear(3, 2));
    const bn = T.tidy(() => new BatchNorm1d(2));
    expect(lin.weight.isDisposed).toBe(false);
    expect(bn.getBuffer("running_var").isDisposed).toBe(false);
  });

  test("to(dtype) converts float parameters, gradients and buffers in place; integer buffers stay", () => {
    const net = new Net();
    T.tidy(() => net.heads.at(0).forward(tensor([[1, 2, 3, 4]], { dtype: "float32" })).sum().backward());
    const before = values(net.block.conv1.weight);
    const param = net.block.conv1.weight;
    net.to("float64");
    expect(net.block.conv1.weight).toBe(param);
    expect(net.parameters().every((p) => p.dtype === "float64")).toBe(true);
    expect((net.heads.at(0) as Linear).weight.grad!.dtype).toBe("float64");
    expect(net.block.bn1.getBuffer("running_mean").dtype).toBe("float64");
    expect(net.block.bn1.getBuffer("num_batches_tracked").dtype).toBe("int32");
    expect(values(net.block.conv1.weight)).toEqual(before.map((v) => Math.fround(v)));
    net.to("cpu");
    expect(net.parameters().every((p) => p.device === "cpu")).toBe(true);
  });

  test("toString outlines the tree like PyTorch", () => {
    const s = new Sequential(new Conv2d(3, 8, 3, { padding: 1 }), new BatchNorm1d(4), new ReLU()).toString();
    expect(s).toBe(
      "Sequential(\n" +
        "  (0): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))\n" +
        "  (1): BatchNorm1d(4, eps=0.00001, momentum=0.1, affine=true, track_running_stats=true)\n" +
        "  (2): ReLU()\n" +
        ")",
    );
  });
});

describe("stateDict and loadStateDict", () => {
  test("round trip copies values into another module; the source state stays the caller's", () => {
    const a = new Net(1), b = new Net(2);
    const state = a.stateDict({ clone: true });
    expect(values(b.block.conv1.weight)).not.toEqual(values(a.block.conv1.weight));
    const result = b.loadStateDict(state);
    expect(result).toEqual({ missingKeys: [], unexpectedKeys: [] });
    for (const [k, v] of Object.entries(a.stateDict())) expect(values(b.stateDict()[k]!)).toEqual(values(v));
    // b owns copies: disposing the loaded state leaves b intact.
    for (const v of Object.values(state)) v.dispose();
    expect(b.block.conv1.weight.isDisposed).toBe(false);
    expect(() => values(b.block.bn1.getBuffer("running_mean"))).not.toThrow();
  });

  test("values are converted to each parameter's dtype", () => {
    const a = new Linear(2, 2, { generator: new T.Generator(3) });
    const b = new Linear(2, 2, { dtype: "float64" });
    b.loadStateDict(a.stateDict());
    expect(b.weight.dtype).toBe("float64");
    expect(values(b.weight)).toEqual(values(a.weight));
  });

  test("missing and unexpected keys are listed, and nothing is loaded", () => {
    const a = new Net(1), b = new Net(2);
    const state = { ...a.stateDict() };
    delete state["block.bn1.running_mean"];
    delete state["tail.2.bias"];
    state["fc.weight"] = T.zeros([2, 2]);
    const before = values(b.block.conv1.weight);
    let error: StateDictError | undefined;
    try {
      b.loadStateDict(state);
    } catch (e) {
      error = e as StateDictError;
    }
    expect(error).toBeInstanceOf(StateDictError);
    expect(error!.missingKeys).toEqual(["block.bn1.running_mean", "tail.2.bias"]);
    expect(error!.unexpectedKeys).toEqual(["fc.weight"]);
    expect(error!.message).toContain('missing keys (2): "block.bn1.running_mean", "tail.2.bias"');
    expect(error!.message).toContain('unexpected keys (1): "fc.weight"');
    expect(error!.message).toContain("nothing was loaded");
    expect(values(b.block.conv1.weight)).toEqual(before);
  });

  test("shape mismatches are errors even when not strict; key mismatches are allowed then", () => {
    const b = new Net(2);
    const state = { ...new Net(1).stateDict() };
    state["heads.1.weight"] = T.zeros([4, 3]);
    expect(() => b.loadStateDict(state, { strict: false })).toThrow(
      /shape mismatch for "heads.1.weight": the state has \[4, 3\], the module \[3, 4\]/,
    );
    const partial = { "tail.0.bias": T.tensor([1, 2, 3], { dtype: "float32" }), "other": T.zeros([1]) };
    const result = b.loadStateDict(partial, { strict: false });
    expect(result.unexpectedKeys).toEqual(["other"]);
    expect(result.missingKeys).toHaveLength(15);
    expect(values((b.tail.at(0) as Linear).bias!)).toEqual([1, 2, 3]);
  });

  test("loading does not leak: old arrays are disposed", () => {
    const a = new Net(1), b = new Net(2);
    const state = a.stateDict();
    b.loadStateDict(state);
    const before = liveStorages();
    for (let i = 0; i < 5; i++) b.loadStateDict(state);
    expect(liveStorages()).toBe(before);
  });
});

describe("Parameter", () => {
  test("requires a gradient, and assign keeps the new value out of scopes and disposes the old", () => {
    const p = new Parameter(T.zeros([2]));
    expect(p.requiresGrad).toBe(true);
    const old = p.value;
    T.tidy(() => p.assign(T.ones([2])));
    expect(old.isDisposed).toBe(true);
    expect(values(p)).toEqual([1, 1]);
    const frozen: Tensor = new Parameter(T.zeros([1]), { requiresGrad: false });
    expect(frozen.requiresGrad).toBe(false);
  });
});

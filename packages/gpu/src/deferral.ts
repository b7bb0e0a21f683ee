// Deferred elementwise work. On a GPU every kernel launch costs about the same whatever it computes, and a
// training step is mostly chains of small elementwise ops (bias, batch norm, activation, their gradients) and
// the copies that lay arrays out for reductions. So float32/bool elementwise ops and whole copies are not run:
// their result storage becomes `pending`, an expression over strided views of other storages (the leaves).
// The expression grows as later elementwise ops consume it, and runs as one fused kernel when something needs
// the buffer (`GpuStorage.buf`: another kernel, a read, a partial write) — or never, when it is released first.
// A row reduction of a pending storage evaluates the expression inside the reduction (no pass of its own).
//
// Lifetimes: a pending expression lists itself in its leaves' `dependents`. A released leaf keeps its buffer
// out of the pool until no expression reads it. A leaf holds computed contents when it is taken (a pending
// operand is inlined, or run first when its view cannot be composed); a whole overwrite of it may then make it
// pending again, so before a storage's buffer is written the expressions that read it run first (they read
// the buffer as it is, not the new pending contents).
import type { DType, Expr, FusedProgram, ReduceOp, StridedView } from "@backprop/tensor";
import { binaryDef, E, unaryDef, type BinaryOp, type UnaryOp } from "@backprop/tensor";
import { deferredKernel, type DeferredProgram, deferredReduceKernel, programKey, reduceWordsBase, SEQUENTIAL_MAX, type Step } from "./kernels/deferred.ts";
import { ParamWriter } from "./params.ts";
import type { BufferPool, PooledBuffer } from "./pool.ts";
import type { KernelSpec } from "./runtime.ts";
import type { GpuCounters } from "./stats.ts";
import { type GpuStorage, gpuStorage } from "./storage.ts";
import { collapse, stridedWords, writeStrided } from "./strided.ts";
import { composeWindow, isWholeRowMajor } from "./view_compose.ts";

/** A node of a deferred expression; every leaf of one expression has the expression's shape. */
export type DNode =
  | { readonly kind: "leaf"; readonly storage: GpuStorage; readonly shape: readonly number[]; readonly strides: readonly number[]; readonly offset: number; readonly key: string }
  | { readonly kind: "param"; readonly value: number }
  | { readonly kind: "op"; readonly expr: Expr; readonly args: readonly DNode[] };

type LeafNode = Extract<DNode, { kind: "leaf" }>;

/** The deferred contents of a storage: `root` evaluated at each row-major position of `shape`. */
export interface Pending {
  readonly shape: readonly number[];
  readonly root: DNode;
  readonly leaves: ReadonlySet<GpuStorage>;
}

/** What the deferral needs from the backend. */
export interface DeferralHost {
  newStorage(dtype: DType, size: number, op: string): GpuStorage;
  run(spec: KernelSpec, buffers: readonly PooledBuffer[], p: ParamWriter, threads: number, perGroup?: number): void;
  /** Returns a released storage's buffer to the pool. */
  freeBuffer(s: GpuStorage): void;
  readonly pool: BufferPool;
  readonly counters: GpuCounters;
}

/** Storage bindings one kernel may use (WebGPU's default maxStorageBuffersPerShaderStage). */
const MAX_BINDINGS = 8;
/** Parameter words an expression may use, leaving room for a reduction's four and the reserved word 63. */
const MAX_WORDS = 58;
/** Nodes of an expression tree (shared subtrees counted each time): bounds the shader and its compile time. */
const MAX_NODES = 96;
/**
 * Released storages a new expression may keep out of the pool. An accumulator (x ← x + yₜ, running
 * statistics) would otherwise keep every yₜ until it is read; this runs it every few steps instead, so memory
 * stays bounded and a training loop's pool settles.
 */
const MAX_RETAINED = 2;

interface Info {
  readonly nodes: number;
  readonly params: number;
  readonly leaves: ReadonlyMap<string, LeafNode>;
}
const infos = new WeakMap<DNode, Info>();
const NO_LEAVES: ReadonlyMap<string, LeafNode> = new Map();

function info(n: DNode): Info {
  return infos.get(n)!;
}

function leafNode(storage: GpuStorage, w: { shape: readonly number[]; strides: readonly number[]; offset: number }): DNode {
  const key = `${storage.id}@${w.offset}:${w.strides.join(",")}`;
  const n: LeafNode = { kind: "leaf", storage, shape: [...w.shape], strides: [...w.strides], offset: w.offset, key };
  infos.set(n, { nodes: 1, params: 0, leaves: new Map([[key, n]]) });
  return n;
}

function paramNode(value: number): DNode {
  const n: DNode = { kind: "param", value };
  infos.set(n, { nodes: 1, params: 1, leaves: NO_LEAVES });
  return n;
}

/** `expr` (over input k = args[k], and param(i) = params[i]) as a node. */
export function opNode(expr: Expr, args: readonly DNode[], params: readonly number[] = []): DNode {
  let e = expr;
  const all = [...args];
  if (params.length > 0) {
    e = paramsToInputs(expr, args.length);
    for (const v of params) all.push(paramNode(v));
  }
  const n: DNode = { kind: "op", expr: e, args: all };
  let nodes = 1, ps = 0;
  let leaves = NO_LEAVES;
  for (const a of all) {
    const i = info(a);
    nodes += i.nodes;
    ps += i.params;
    if (i.leaves.size > 0) leaves = leaves.size === 0 ? i.leaves : new Map([...leaves, ...i.leaves]);
  }
  infos.set(n, { nodes, params: ps, leaves });
  return n;
}

function paramsToInputs(e: Expr, first: number): Expr {
  switch (e.kind) {
    case "param": return E.input(first + e.index);
    case "input":
    case "const": return e;
    case "unary": return { ...e, x: paramsToInputs(e.x, first) };
    case "binary": return { ...e, a: paramsToInputs(e.a, first), b: paramsToInputs(e.b, first) };
    case "select": return { ...e, cond: paramsToInputs(e.cond, first), a: paramsToInputs(e.a, first), b: paramsToInputs(e.b, first) };
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The float32 value of a pending constant of `dtype`, or null when float32 cannot hold it exactly. */
function constantValue(dtype: DType, bits: number): number | null {
  if (dtype === "float32") {
    u32[0] = bits;
    return f32[0]!;
  }
  if (dtype === "bool") return bits ? 1 : 0;
  const v = bits | 0;
  return Math.abs(v) <= 2 ** 24 ? v : null;
}

/** Dimensions of size > 1: the most a shape can keep after `collapse`. */
function rankBound(shape: readonly number[]): number {
  return Math.max(1, shape.filter((d) => d > 1).length);
}

const TO_BOOL: Expr = E.nonzero(E.input(0));
const SELECT: Expr = E.select(E.input(0), E.input(1), E.input(2));

export class Deferral {
  readonly #live = new Set<GpuStorage>();

  constructor(private readonly host: DeferralHost) {}

  /** Pending storages not yet run or released. */
  get pendingCount(): number {
    return this.#live.size;
  }

  // ---- recording ----

  unary(op: UnaryOp, x: StridedView, outDtype: DType, param?: number): GpuStorage | undefined {
    if (x.storage.dtype !== "float32") return undefined;
    const expr = unaryDef(op).expr;
    return this.#defer(op, outDtype, x.shape, [x], ([a]) => opNode(expr, [a!], usesParam(expr) ? [param ?? 1] : []));
  }

  binary(op: BinaryOp, a: StridedView, b: StridedView, shape: readonly number[], outDtype: DType): GpuStorage | undefined {
    if (a.storage.dtype !== "float32" || b.storage.dtype !== "float32") return undefined;
    const expr = binaryDef(op).expr;
    return this.#defer(op, outDtype, shape, [a, b], (args) => opNode(expr, args));
  }

  where(cond: StridedView, a: StridedView, b: StridedView, shape: readonly number[], outDtype: DType): GpuStorage | undefined {
    if (!deferrable(outDtype) || a.storage.dtype !== outDtype || b.storage.dtype !== outDtype) return undefined;
    return this.#defer("where", outDtype, shape, [cond, a, b], (args) => opNode(SELECT, args));
  }

  /**
   * A copy filling all of `dst` (a fresh or wholly overwritten storage) becomes pending; false where it must run
   * now (an int32 conversion or arithmetic, or a source that is a view of `dst` itself).
   */
  copyWhole(src: StridedView, dst: GpuStorage): boolean {
    const from = src.storage.dtype;
    if (from === "float64" || dst.dtype === "float64") return false;
    const build = () => {
      const node = this.#operand(src);
      return dst.dtype === "bool" && from !== "bool" ? opNode(TO_BOOL, [node]) : node;
    };
    // The new contents may read the old ones (x ← f(x)): `materialize` then writes them to a new buffer.
    const root = build();
    // int32 values pass only as an exact copy (the expressions compute in float32).
    const exact = root.kind === "leaf" && root.storage.dtype === dst.dtype;
    if ((!deferrable(dst.dtype) && !exact) || !this.#fits(root, src.shape, 1)) return false;
    if (dst.pending) this.#forget(dst);
    dst.clearConstant();
    this.#setPending(dst, src.shape, root);
    return true;
  }

  /**
   * `v` itself, or where its storage is a pending exact copy of another storage, the same elements viewed in that
   * storage: kernels that read strided views take the source of a deferred copy directly.
   */
  viewOf(v: StridedView): StridedView {
    const s = gpuStorage(v.storage);
    const p = s.pending;
    if (!p || p.root.kind !== "leaf" || p.root.storage.dtype !== s.dtype || p.root.storage.pending) return v;
    const w = composeWindow(p.shape, p.root, v);
    return w ? { storage: p.root.storage, shape: w.shape, strides: w.strides, offset: w.offset } : v;
  }

  #defer(op: string, outDtype: DType, shape: readonly number[], operands: readonly StridedView[], build: (args: DNode[]) => DNode): GpuStorage | undefined {
    if (!deferrable(outDtype)) return undefined;
    const n = shape.reduce((a, b) => a * b, 1);
    if (n === 0) return undefined;
    const roots = this.#fitted(operands, shape, 1, (args) => [build(args)]);
    if (!roots) return undefined;
    const root = roots[0]!;
    const out = this.host.newStorage(outDtype, n, op);
    this.#setPending(out, shape, root);
    return out;
  }

  /** The node reading view `v` (its shape is the consumer's): a parameter, a leaf, or a pending expression composed. */
  #operand(v: StridedView): DNode {
    const s = gpuStorage(v.storage);
    if (s.constantBits !== null) {
      const value = constantValue(s.dtype, s.constantBits);
      if (value !== null) return paramNode(value);
    }
    if (s.pending) {
      const composed = this.#compose(s.pending, v);
      if (composed) return composed;
      this.materialize(s);
    }
    return leafNode(s, v);
  }

  /** `p`'s expression read through window `v` on its storage, or null when some leaf cannot follow the window. */
  #compose(p: Pending, v: StridedView): DNode | null {
    const size = p.shape.reduce((a, b) => a * b, 1);
    const same = v.shape.length === p.shape.length && v.shape.every((d, i) => d === p.shape[i]);
    if (same && isWholeRowMajor(v, size)) return p.root;
    const memo = new Map<DNode, DNode>();
    let failed = false;
    const rebuild = (n: DNode): DNode => {
      const hit = memo.get(n);
      if (hit) return hit;
      let out: DNode;
      if (n.kind === "param") out = n;
      else if (n.kind === "leaf") {
        const w = composeWindow(p.shape, n, v);
        if (!w) {
          failed = true;
          out = n;
        } else out = leafNode(n.storage, w);
      } else out = opNode(n.expr, n.args.map(rebuild));
      memo.set(n, out);
      return out;
    };
    const root = rebuild(p.root);
    return failed ? null : root;
  }

  /**
   * The roots `build` makes from the operands' nodes, made to fit one kernel: while they do not, the pending
   * operand with the most leaves runs first and becomes a leaf itself. Undefined where even that cannot fit.
   */
  #fitted(operands: readonly StridedView[], shape: readonly number[], outputs: number, build: (args: DNode[]) => DNode[]): DNode[] | undefined {
    for (;;) {
      const roots = build(operands.map((v) => this.#operand(v)));
      if (this.#fits(roots, shape, outputs)) return roots;
      let widest: GpuStorage | null = null, most = -1;
      for (const v of operands) {
        const s = gpuStorage(v.storage);
        const leaves = s.pending ? info(s.pending.root).leaves.size : -1;
        if (s.pending && leaves > most) [widest, most] = [s, leaves];
      }
      if (!widest) return undefined;
      this.materialize(widest);
    }
  }

  #fits(root: DNode | readonly DNode[], shape: readonly number[], outputs: number, extraWords = 0): boolean {
    const roots = Array.isArray(root) ? root : [root as DNode];
    let nodes = 0, params = 0, retained = 0;
    const leaves = new Set<string>();
    for (const r of roots) {
      const i = info(r);
      nodes += i.nodes;
      params += i.params;
      for (const [k, l] of i.leaves) {
        if (!leaves.has(k) && l.storage.released) retained++;
        leaves.add(k);
      }
    }
    return nodes <= MAX_NODES && leaves.size + outputs <= MAX_BINDINGS && retained <= MAX_RETAINED &&
      stridedWords(rankBound(shape), leaves.size) + params + extraWords <= MAX_WORDS;
  }

  #setPending(s: GpuStorage, shape: readonly number[], root: DNode): void {
    const leaves = new Set([...info(root).leaves.values()].map((l) => l.storage));
    s.pending = { shape: [...shape], root, leaves };
    for (const l of leaves) (l.dependents ??= new Set()).add(s);
    this.#live.add(s);
    this.host.counters.current.deferred++;
  }

  /** Drops `s`'s pending expression (without running it), and with `unpin` lets go of its leaves. */
  #forget(s: GpuStorage, unpin = true): void {
    const p = s.pending!;
    s.pending = null;
    this.#live.delete(s);
    if (unpin) this.#unpin(s, p);
  }

  #unpin(s: GpuStorage, p: Pending): void {
    for (const l of p.leaves) {
      l.dependents!.delete(s);
      if (l.released && l.dependents!.size === 0) this.host.freeBuffer(l);
    }
  }

  // ---- running ----

  /** Runs `s`'s pending expression into its buffer (after the expressions that read the buffer as it is). */
  materialize(s: GpuStorage): void {
    if (!s.pending) return;
    this.materializeDependents(s);
    const p = s.pending;
    const { program, leaves, params } = linearize([p.root], [s.dtype]);
    // Without its pending state, binding `s` only takes its buffer.
    this.#forget(s, false);
    if (p.leaves.has(s)) {
      // x ← f(x): one kernel cannot read and write a buffer, so the new contents go to a new one.
      const old = s.swapBuffer(this.host.pool.acquire(s.size * 4));
      this.#dispatch(program, leaves, params, p.shape, [s], s, old);
      this.host.pool.release(old);
    } else this.#dispatch(program, leaves, params, p.shape, [s]);
    this.#unpin(s, p);
    this.host.counters.current.deferredRuns++;
  }

  /** Runs every pending expression that reads `s` (before `s` is overwritten). */
  materializeDependents(s: GpuStorage): void {
    if (!s.dependents) return;
    for (const d of [...s.dependents]) if (d !== s) this.materialize(d);
  }

  /** Drops the pending contents of `s`, which a write is about to replace. */
  discard(s: GpuStorage): void {
    if (s.pending) this.#forget(s);
  }

  /** `s` was released: its expression never runs. */
  release(s: GpuStorage): void {
    if (!s.pending) return;
    this.#forget(s);
    this.host.counters.current.deferredDropped++;
  }

  #dispatch(
    program: DeferredProgram,
    leaves: readonly LeafNode[],
    params: readonly number[],
    shape: readonly number[],
    outs: GpuStorage[],
    renamed?: GpuStorage,
    oldBuffer?: PooledBuffer,
  ): void {
    const n = shape.reduce((a, b) => a * b, 1);
    const c = collapse(shape, leaves);
    const p = new ParamWriter();
    writeStrided(p, c.shape, c.strides, leaves.map((l) => l.offset));
    for (const v of params) p.f32(v);
    const inputs = leaves.map((l) => (l.storage === renamed ? oldBuffer! : leafBuffer(l)));
    this.host.run(deferredKernel(program, c.shape.length), [...inputs, ...outs.map((o) => o.buf)], p, n);
  }

  /**
   * Sums (or other reductions) of the rows of view `x` of a pending float32 storage, its expression evaluated
   * inside the reduction; undefined where it does not fit one pass (the caller runs `x` and reduces its buffer).
   */
  reduce(op: ReduceOp, x: StridedView, outer: number, reduceSize: number): GpuStorage | undefined {
    const s = gpuStorage(x.storage), p = s.pending;
    if (!p || s.dtype !== "float32") return undefined;
    // The rows read `x`'s window on the pending storage (a permuted view for a sum over leading axes).
    const root = this.#compose(p, x);
    if (!root || !this.#fits(root, x.shape, 1, 4)) return undefined;
    const { program, leaves, params } = linearize([root], ["float32"]);
    const c = collapse(x.shape, leaves);
    const w = new ParamWriter();
    writeStrided(w, c.shape, c.strides, leaves.map((l) => l.offset));
    for (const v of params) w.f32(v);
    if (w.length !== reduceWordsBase(c.shape.length, leaves.length, params.length)) return undefined;
    w.u32s([outer, reduceSize, reduceSize, 1]);
    const out = this.host.newStorage("float32", outer, op);
    const sequential = reduceSize <= SEQUENTIAL_MAX;
    const spec = deferredReduceKernel(op, program, c.shape.length, sequential);
    this.host.run(spec, [...leaves.map(leafBuffer), out.buf], w, outer, sequential ? 64 : 1);
    return out;
  }

  /**
   * A fused program over float32 `inputs` (pending ones inlined): one output stays pending, several run now in
   * one pass. Undefined where the leaves and outputs exceed one kernel's bindings.
   */
  fused(program: FusedProgram, inputs: readonly StridedView[], shape: readonly number[], params: readonly number[]): GpuStorage[] | undefined {
    if (program.dtype !== "float32" || inputs.some((v) => v.storage.dtype !== "float32")) return undefined;
    const n = shape.reduce((a, b) => a * b, 1);
    const outs = program.outputs.length;
    const roots = this.#fitted(inputs, shape, outs, (args) => program.outputs.map((e) => opNode(e, args, params)));
    if (!roots) return undefined;
    if (outs === 1 && n > 0) {
      const out = this.host.newStorage("float32", n, "fused");
      this.#setPending(out, shape, roots[0]!);
      return [out];
    }
    const storages = roots.map(() => this.host.newStorage("float32", n, "fused"));
    if (n === 0) return storages;
    const lin = linearize(roots, roots.map(() => "float32"));
    this.#dispatch(lin.program, lin.leaves, lin.params, shape, storages);
    return storages;
  }
}

/** A leaf's buffer as it is now: pending contents of a leaf are newer than what the reader needs. */
function leafBuffer(l: LeafNode): PooledBuffer {
  return l.storage.pending ? l.storage.raw : l.storage.buf;
}

function deferrable(dtype: DType): boolean {
  return dtype === "float32" || dtype === "bool";
}

function usesParam(e: Expr): boolean {
  switch (e.kind) {
    case "param": return true;
    case "input":
    case "const": return false;
    case "unary": return usesParam(e.x);
    case "binary": return usesParam(e.a) || usesParam(e.b);
    case "select": return usesParam(e.cond) || usesParam(e.a) || usesParam(e.b);
  }
}

/** The straight-line program of `roots`: each distinct node once, leaves deduplicated by storage and window. */
function linearize(roots: readonly DNode[], outputDtypes: readonly DType[]): { program: DeferredProgram; leaves: LeafNode[]; params: number[] } {
  const steps: Step[] = [];
  const leaves: LeafNode[] = [];
  const leafIndex = new Map<string, number>();
  const params: number[] = [];
  const memo = new Map<DNode, number>();
  const visit = (n: DNode): number => {
    const hit = memo.get(n);
    if (hit !== undefined) return hit;
    let step: Step;
    if (n.kind === "leaf") {
      let k = leafIndex.get(n.key);
      if (k === undefined) {
        leafIndex.set(n.key, (k = leaves.length));
        leaves.push(n);
      }
      step = { kind: "leaf", leaf: k };
    } else if (n.kind === "param") {
      params.push(n.value);
      step = { kind: "param", param: params.length - 1 };
    } else {
      step = { kind: "op", expr: n.expr, args: n.args.map(visit) };
    }
    steps.push(step);
    memo.set(n, steps.length - 1);
    return steps.length - 1;
  };
  const outputs = roots.map(visit);
  const leafDtypes = leaves.map((l) => l.storage.dtype);
  const key = programKey(steps, leafDtypes, outputs, outputDtypes);
  return { program: { steps, leafDtypes, params: params.length, outputs, outputDtypes, key }, leaves, params };
}

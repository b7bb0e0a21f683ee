// Deferred elementwise work. On a GPU every kernel launch costs about the same whatever it computes, and a
// training step is mostly chains of small elementwise ops (bias, batch norm, activation, their gradients) and
// the copies that lay arrays out for reductions. So float32/bool elementwise ops and whole copies are not run:
// their result storage becomes `pending`, an expression over strided views of other storages (the leaves).
// The expression grows as later elementwise ops consume it, and runs as one fused kernel when something needs
// the buffer (`GpuStorage.buf`: another kernel, a read, a partial write) — or never, when it is released first.
// A row reduction of a pending storage evaluates the expression inside the reduction (no pass of its own), and is
// pending itself until read, so reductions of the same rows recorded together run as one pass. A split-K GEMM's
// output is pending as the sum of its workspace's slices. Multi-output programs (optimizer updates) are pending
// too and run in batches, several in one dispatch.
//
// Lifetimes: a pending expression lists itself in its leaves' `dependents`. A released leaf keeps its buffer
// out of the pool until no expression reads it. A leaf holds computed contents when it is taken (a pending
// operand is inlined, or run first when its view cannot be composed); a whole overwrite of it may then make it
// pending again, so before a storage's buffer is written the expressions that read it run first (they read
// the buffer as it is, not the new pending contents).
import type { DType, Expr, FusedProgram, ReduceOp, StridedView } from "@backprop/tensor";
import { binaryDef, E, unaryDef, type BinaryOp, type UnaryOp } from "@backprop/tensor";
import { type BatchSegment, deferredBatchKernel, deferredKernel, type DeferredProgram, deferredReduceKernel, programKey, reduceWordsBase, SEQUENTIAL_MAX, type Step } from "./kernels/deferred.ts";
import { ParamWriter } from "./params.ts";
import type { BufferPool, PooledBuffer } from "./pool.ts";
import type { KernelSpec } from "./runtime.ts";
import type { GpuCounters } from "./stats.ts";
import { type GpuStorage, gpuStorage } from "./storage.ts";
import { InternalError } from "@backprop/tensor";
import { collapse, stridedWords, writeStrided } from "./strided.ts";
import { composeWindow, isWholeRowMajor } from "./view_compose.ts";

/** A node of a deferred expression; every leaf of one expression has the expression's shape. */
export type DNode =
  | {
    readonly kind: "leaf";
    readonly storage: GpuStorage;
    readonly shape: readonly number[];
    readonly strides: readonly number[];
    readonly offset: number;
    readonly key: string;
    /** A split-K sum: the value is Σ_{s < count} of the element `s·stride` further on, added in order. */
    readonly sum?: SplitSum;
  }
  | { readonly kind: "param"; readonly value: number }
  | { readonly kind: "op"; readonly expr: Expr; readonly args: readonly DNode[] };

type LeafNode = Extract<DNode, { kind: "leaf" }>;

/** Slices of a split-K workspace that a leaf adds up: `count` slices, `stride` elements apart. */
export interface SplitSum {
  readonly count: number;
  readonly stride: number;
}

/** A parameter word of a deferred kernel: a float32 scalar, or a u32 (a split sum's count or stride). */
type ParamWord = number | { readonly u32: number };

/**
 * The deferred contents of a storage: `root` evaluated at each row-major position of `shape`; or, with
 * `reduce`, the row reductions of that expression (the storage holds `reduce.outer` values).
 */
export interface Pending {
  readonly shape: readonly number[];
  readonly root: DNode;
  readonly leaves: ReadonlySet<GpuStorage>;
  readonly reduce?: ReduceGroup;
  /** An output of a multi-output fused program that runs in a batch with others (see `FusedBatch`). */
  readonly batch?: FusedBatch;
}

/**
 * Multi-output fused programs (an optimizer's update of one parameter: θ', m', v') recorded one after another
 * and run as one dispatch, each over its own shape: the next parameter's update joins while the bindings and
 * the parameter block allow, then the batch runs (so at most one batch holds its inputs alive). Each segment
 * is the outputs of one program that are still wanted.
 */
interface FusedBatch {
  readonly segments: { readonly shape: readonly number[]; readonly members: GpuStorage[] }[];
}

/**
 * Reductions of the same rows (the same op, row count and length, over expressions of the same shape) that run
 * as one pass with one output each: a batch norm's backward pass sums the gradient and the gradient times x̂
 * over the same elements, reading the gradient once.
 */
interface ReduceGroup {
  readonly op: ReduceOp;
  readonly outer: number;
  readonly size: number;
  readonly shape: readonly number[];
  readonly members: GpuStorage[];
}

/** What the deferral needs from the backend. */
export interface DeferralHost {
  newStorage(dtype: DType, size: number, op: string): GpuStorage;
  run(spec: KernelSpec, buffers: readonly PooledBuffer[], p: ParamWriter, threads: number, perGroup?: number): void;
  /** Returns a released storage's buffer to the pool. */
  freeBuffer(s: GpuStorage): void;
  readonly pool: BufferPool;
  readonly counters: GpuCounters;
  /** Storage buffers one kernel may bind (the device's maxStorageBuffersPerShaderStage). */
  readonly maxBindings: number;
}

/** Parameter words an expression may use, leaving room for a reduction's four and the reserved word 63. */
const MAX_WORDS = 58;
/** Nodes of an expression tree (shared subtrees counted each time): bounds the shader and its compile time. */
const MAX_NODES = 96;
/**
 * Released storages a new expression may keep out of the pool. An accumulator (x ← x + yₜ, running
 * statistics) would otherwise keep every yₜ until it is read; this runs it every few steps instead, so memory
 * stays bounded and a training loop's pool settles. An accumulator's history is old: storages made more than
 * `RECENT_SPAN` storages before the expression's newest leaf count against `MAX_RETAINED`. The temporaries of one
 * layer's pass (a convolution's output and split-K workspace, a ReLU's mask, a batch norm's gradients) are
 * recent, and all released leaves together may number `MAX_RETAINED_RECENT`.
 */
const MAX_RETAINED = 3;
const MAX_RETAINED_RECENT = 6;
const RECENT_SPAN = 32;
/** Reductions one pass computes together (each keeps a workgroup array of its own). */
const MAX_GROUP = 4;
/** Parameter words a group of reductions may use: all but the reserved word 63 (nothing is added later). */
const GROUP_WORDS = 63;
/** Programs one batch runs (each a function of the kernel). */
const MAX_SEGMENTS = 4;

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

function leafNode(storage: GpuStorage, w: { shape: readonly number[]; strides: readonly number[]; offset: number }, sum?: SplitSum): DNode {
  const key = `${storage.id}@${w.offset}:${w.strides.join(",")}${sum ? `+${sum.count}x${sum.stride}` : ""}`;
  const n: LeafNode = { kind: "leaf", storage, shape: [...w.shape], strides: [...w.strides], offset: w.offset, key, sum };
  // A split sum's count and stride take two parameter words.
  infos.set(n, { nodes: 1, params: sum ? 2 : 0, leaves: new Map([[key, n]]) });
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

/** int32 arithmetic as WGSL's i32 computes it (two's complement, wrapping). */
const INT32_FOLDS: Partial<Record<BinaryOp, (a: number, b: number) => number>> = {
  add: (a, b) => (a + b) | 0,
  sub: (a, b) => (a - b) | 0,
  mul: (a, b) => Math.imul(a, b),
};

const TO_BOOL: Expr = E.nonzero(E.input(0));
const SELECT: Expr = E.select(E.input(0), E.input(1), E.input(2));

export class Deferral {
  readonly #live = new Set<GpuStorage>();
  /** The latest group of pending reductions, which a compatible new reduction joins. */
  #openGroup: ReduceGroup | null = null;
  /** The latest batch of multi-output programs, which the next one may join. */
  #openBatch: FusedBatch | null = null;

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

  /**
   * `out` (float32, `size` elements) becomes the pending sum of the `count` slices of split-K `workspace`, so
   * the consumer adds the partial products as it reads them instead of a pass of its own. `workspace` is
   * released: the expression keeps its buffer until it runs or is dropped.
   */
  splitSum(out: GpuStorage, workspace: GpuStorage, count: number, size: number): void {
    const root = leafNode(workspace, { shape: [size], strides: [1], offset: 0 }, { count, stride: size });
    this.#setPending(out, [size], root);
  }

  /**
   * An int32 add, sub or mul of two pending constants (a step counter: `count.add(1)`) as a new pending
   * constant, computed here with the GPU's wrapping arithmetic: no kernel, and the counter stays a constant.
   */
  foldInt32(op: BinaryOp, a: StridedView, b: StridedView, shape: readonly number[], outDtype: DType): GpuStorage | undefined {
    const fold = INT32_FOLDS[op];
    const x = gpuStorage(a.storage), y = gpuStorage(b.storage);
    if (!fold || outDtype !== "int32" || x.dtype !== "int32" || y.dtype !== "int32") return undefined;
    if (x.constantBits === null || y.constantBits === null) return undefined;
    const out = this.host.newStorage("int32", shape.reduce((m, d) => m * d, 1), op);
    out.setConstant(fold(x.constantBits | 0, y.constantBits | 0) >>> 0);
    return out;
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
    const exact = root.kind === "leaf" && !root.sum && root.storage.dtype === dst.dtype;
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
    if (!p || p.reduce || p.batch || p.root.kind !== "leaf" || p.root.sum || p.root.storage.dtype !== s.dtype || p.root.storage.pending) return v;
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
      // A pending reduction runs (with its group) first: its values are not elementwise in its leaves. A batched
      // output runs with its batch rather than alone inside this expression.
      const composed = s.pending.reduce || s.pending.batch ? null : this.#compose(s.pending, v);
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
        } else out = leafNode(n.storage, w, n.sum);
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

  /**
   * Whether `root` fits one kernel. The parameter words are bounded from the shape's rank first; where that
   * bound is over the limit (`exactWords`, else `MAX_WORDS`) they are counted as the kernel would write them,
   * after merging dimensions and sharing leaves (a batch norm's per-channel operands merge the spatial ones).
   */
  #fits(root: DNode | readonly DNode[], shape: readonly number[], outputs: number, extraWords = 0, exactWords?: number): boolean {
    const roots = Array.isArray(root) ? root : [root as DNode];
    let nodes = 0, params = 0, newest = 0;
    const leaves = new Map<string, GpuStorage>();
    for (const r of roots) {
      const i = info(r);
      nodes += i.nodes;
      params += i.params;
      for (const [k, l] of i.leaves) {
        leaves.set(k, l.storage);
        newest = Math.max(newest, l.storage.id);
      }
    }
    if (nodes > MAX_NODES || leaves.size + outputs > this.host.maxBindings) return false;
    let retained = 0, old = 0;
    for (const s of new Set(leaves.values())) {
      if (!s.released) continue;
      retained++;
      if (s.id < newest - RECENT_SPAN) old++;
    }
    if (old > MAX_RETAINED || retained > MAX_RETAINED_RECENT) return false;
    const limit = exactWords ?? MAX_WORDS;
    if (stridedWords(rankBound(shape), leaves.size) + params + extraWords <= limit) return true;
    const lin = linearize(roots, roots.map(() => "float32"));
    const c = collapse(shape, lin.leaves);
    return stridedWords(c.shape.length, lin.leaves.length) + lin.params.length + extraWords <= limit;
  }

  #setPending(s: GpuStorage, shape: readonly number[], root: DNode, reduce?: ReduceGroup, batch?: FusedBatch): void {
    const leaves = new Set([...info(root).leaves.values()].map((l) => l.storage));
    s.pending = { shape: [...shape], root, leaves, reduce, batch };
    for (const l of leaves) (l.dependents ??= new Set()).add(s);
    this.#live.add(s);
    this.host.counters.current.deferred++;
  }

  /** Drops `s`'s pending expression (without running it), and with `unpin` lets go of its leaves. */
  #forget(s: GpuStorage, unpin = true): void {
    const p = s.pending!;
    s.pending = null;
    this.#live.delete(s);
    if (p.reduce) {
      const members = p.reduce.members;
      members.splice(members.indexOf(s), 1);
      if (members.length === 0 && this.#openGroup === p.reduce) this.#openGroup = null;
    }
    if (p.batch) {
      const segments = p.batch.segments;
      const at = segments.findIndex((g) => g.members.includes(s));
      const members = segments[at]!.members;
      members.splice(members.indexOf(s), 1);
      if (members.length === 0) segments.splice(at, 1);
      if (segments.length === 0 && this.#openBatch === p.batch) this.#openBatch = null;
    }
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
    if (s.pending.reduce) {
      this.#runGroup(s.pending.reduce);
      return;
    }
    if (s.pending.batch) {
      this.#runBatch(s.pending.batch);
      return;
    }
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
    params: readonly ParamWord[],
    shape: readonly number[],
    outs: GpuStorage[],
    renamed?: GpuStorage,
    oldBuffer?: PooledBuffer,
  ): void {
    const n = shape.reduce((a, b) => a * b, 1);
    const c = collapse(shape, leaves);
    const p = new ParamWriter();
    writeStrided(p, c.shape, c.strides, leaves.map((l) => l.offset));
    writeParams(p, params);
    const inputs = leaves.map((l) => (l.storage === renamed ? oldBuffer! : leafBuffer(l)));
    this.host.run(deferredKernel(program, c.shape.length), [...inputs, ...outs.map((o) => o.buf)], p, n);
  }

  /**
   * Sums (or other reductions) of the rows of view `x` of a pending float32 storage, its expression evaluated
   * inside the reduction; undefined where it does not fit one pass (the caller runs `x` and reduces its buffer).
   * With `defer`, the result is pending itself and runs when needed, in one pass with the other reductions of the
   * same rows recorded meanwhile (see `ReduceGroup`).
   */
  reduce(op: ReduceOp, x: StridedView, outer: number, reduceSize: number, defer: boolean): GpuStorage | undefined {
    const s = gpuStorage(x.storage), p = s.pending;
    if (!p || p.reduce || p.batch || s.dtype !== "float32") return undefined;
    // The rows read `x`'s window on the pending storage (a permuted view for a sum over leading axes).
    const root = this.#compose(p, x);
    if (!root || !this.#fits(root, x.shape, 1, 4)) return undefined;
    const out = this.host.newStorage("float32", outer, op);
    const open = this.#openGroup;
    const joins = open !== null && open.op === op && open.outer === outer && open.size === reduceSize &&
      open.members.length < MAX_GROUP && sameShape(open.shape, x.shape) &&
      this.#fits([...open.members.map((m) => m.pending!.root), root], x.shape, open.members.length + 1, 4, GROUP_WORDS);
    const group: ReduceGroup = joins ? open : { op, outer, size: reduceSize, shape: [...x.shape], members: [] };
    group.members.push(out);
    this.#setPending(out, x.shape, root, group);
    this.#openGroup = group;
    if (!defer) this.#runGroup(group);
    return out;
  }

  /** Runs a group of pending reductions as one pass, one output each. */
  #runGroup(group: ReduceGroup): void {
    if (this.#openGroup === group) this.#openGroup = null;
    const members = [...group.members];
    const pendings = members.map((m) => m.pending!);
    const { program, leaves, params } = linearize(pendings.map((p) => p.root), members.map(() => "float32"));
    for (const m of members) this.#forget(m, false);
    const c = collapse(group.shape, leaves);
    const w = new ParamWriter();
    writeStrided(w, c.shape, c.strides, leaves.map((l) => l.offset));
    writeParams(w, params);
    if (w.length !== reduceWordsBase(c.shape.length, leaves.length, params.length)) {
      throw new InternalError(`webgpu.${group.op}: a deferred reduction's parameters took ${w.length} words`);
    }
    w.u32s([group.outer, group.size, group.size, 1]);
    const sequential = group.size <= SEQUENTIAL_MAX;
    const spec = deferredReduceKernel(group.op, program, c.shape.length, sequential);
    this.host.run(spec, [...leaves.map(leafBuffer), ...members.map((m) => m.buf)], w, group.outer, sequential ? 64 : 1);
    members.forEach((m, k) => this.#unpin(m, pendings[k]!));
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
    const open = this.#openBatch;
    const segment = { shape: [...shape], members: storages };
    if (open && this.#batchFits([...open.segments, segment], roots)) open.segments.push(segment);
    else {
      if (open) this.#runBatch(open);
      this.#openBatch = { segments: [segment] };
    }
    const batch = this.#openBatch!;
    storages.forEach((s, j) => this.#setPending(s, shape, roots[j]!, undefined, batch));
    return storages;
  }

  /**
   * Whether `segments` (the last one's roots given, not yet pending) fit one batch kernel: bindings, the
   * parameter block, and the released inputs they keep alive.
   */
  #batchFits(segments: readonly { shape: readonly number[]; members: GpuStorage[] }[], lastRoots: readonly DNode[]): boolean {
    if (segments.length > MAX_SEGMENTS) return false;
    let bindings = 0, words = 0;
    for (const [g, seg] of segments.entries()) {
      const roots = g === segments.length - 1 ? lastRoots : seg.members.map((m) => m.pending!.root);
      const lin = linearize(roots, roots.map(() => "float32"));
      bindings += lin.leaves.length + roots.length;
      words += stridedWords(collapse(seg.shape, lin.leaves).shape.length, lin.leaves.length) + lin.params.length;
    }
    return bindings <= this.host.maxBindings && words <= GROUP_WORDS;
  }

  /** Runs a batch of multi-output programs as one dispatch. */
  #runBatch(batch: FusedBatch): void {
    if (this.#openBatch === batch) this.#openBatch = null;
    const segments = batch.segments.map((g) => ({ shape: g.shape, members: [...g.members] }));
    const pendings = segments.map((g) => g.members.map((m) => m.pending!));
    const w = new ParamWriter();
    const parts: BatchSegment[] = [];
    const buffers: PooledBuffer[] = [], outputs: GpuStorage[] = [];
    let total = 0;
    segments.forEach((g, k) => {
      const { program, leaves, params } = linearize(pendings[k]!.map((p) => p.root), g.members.map((m) => m.dtype));
      const c = collapse(g.shape, leaves);
      parts.push({ program, rank: c.shape.length, base: w.length });
      writeStrided(w, c.shape, c.strides, leaves.map((l) => l.offset));
      writeParams(w, params);
      buffers.push(...leaves.map(leafBuffer));
      outputs.push(...g.members);
      total += g.shape.reduce((a, b) => a * b, 1);
    });
    for (const m of outputs) this.#forget(m, false);
    this.host.run(deferredBatchKernel(parts), [...buffers, ...outputs.map((m) => m.buf)], w, total);
    segments.forEach((g, k) => g.members.forEach((m, j) => this.#unpin(m, pendings[k]![j]!)));
    this.host.counters.current.deferredRuns++;
  }
}

function writeParams(w: ParamWriter, params: readonly ParamWord[]): void {
  for (const v of params) {
    if (typeof v === "number") w.f32(v);
    else w.u32(v.u32);
  }
}

/** A leaf's buffer as it is now: pending contents of a leaf are newer than what the reader needs. */
function leafBuffer(l: LeafNode): PooledBuffer {
  return l.storage.pending ? l.storage.raw : l.storage.buf;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
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
function linearize(roots: readonly DNode[], outputDtypes: readonly DType[]): { program: DeferredProgram; leaves: LeafNode[]; params: ParamWord[] } {
  const steps: Step[] = [];
  const leaves: LeafNode[] = [];
  const leafIndex = new Map<string, number>();
  const params: ParamWord[] = [];
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
      if (n.sum) {
        params.push({ u32: n.sum.count }, { u32: n.sum.stride });
        step = { kind: "leaf", leaf: k, sum: params.length - 2 };
      } else step = { kind: "leaf", leaf: k };
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

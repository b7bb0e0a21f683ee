import { type DType, DTypeError, type ElementwiseMethods, type NDArray, type Pair, type Pool2dOptions, ShapeError, type TypedArray } from "@backprop/tensor";
import { fmtShapeOf, OWNED_ARRAYS } from "./util.ts";
import type { Node } from "./node.ts";
import { type BackwardOptions, GraphError, backward as runBackward } from "./engine.ts";
import * as ew from "./ops/elementwise.ts";
import type { Operand } from "./ops/elementwise.ts";
import * as red from "./ops/reduce.ts";
import type { Dims } from "./ops/reduce.ts";
import * as views from "./ops/views.ts";
import { avgPool2d, matmul, maxPool2d } from "./ops/linalg.ts";
import { logSoftmax, softmax } from "./ops/softmax.ts";
import { gather, indexSelect } from "./ops/indexing.ts";

/**
 * An array that can take part in reverse-mode differentiation. `value` holds the data (an `NDArray`);
 * operations on tensors that require a gradient record a graph, and `backward()` fills the `grad` of every
 * leaf tensor that requires one.
 */
export class Tensor implements ElementwiseMethods<Tensor, Operand> {
  /** The data. Optimizers replace it in place with `assign`. */
  value: NDArray;
  /** Whether operations on this tensor are recorded for backpropagation. */
  requiresGrad: boolean;
  /** Accumulated gradient (leaves, and non-leaves after `retainGrad()`). */
  grad: Tensor | null = null;
  /** The operation that produced this tensor; null for leaves. */
  readonly gradFn: Node | null;
  /** Which output of `gradFn` this tensor is. */
  readonly outputIndex: number;
  /** Set by `retainGrad()`: a non-leaf keeps its `grad` after backward. */
  retainsGrad = false;
  /** Optional label, shown in error messages and by modules. */
  name?: string;

  /** Wraps `value` as a leaf; `requiresGrad` needs a float dtype. */
  constructor(value: NDArray, options: { requiresGrad?: boolean } = {}) {
    this.value = value;
    this.gradFn = null;
    this.outputIndex = 0;
    this.requiresGrad = false;
    if (options.requiresGrad) this.requiresGrad_(true);
  }

  /** A non-leaf tensor produced by `node` (used by operations). */
  static fromNode(value: NDArray, node: Node, outputIndex: number): Tensor {
    const t = new Tensor(value);
    (t as { gradFn: Node | null }).gradFn = node;
    (t as { outputIndex: number }).outputIndex = outputIndex;
    t.requiresGrad = true;
    return t;
  }

  /** Sizes of the dimensions. */
  get shape(): readonly number[] {
    return this.value.shape;
  }
  /** Element type. */
  get dtype(): DType {
    return this.value.dtype;
  }
  /** Device name of the data (`"cpu"`, `"webgpu"`). */
  get device(): string {
    return this.value.device;
  }
  /** Number of dimensions. */
  get ndim(): number {
    return this.value.ndim;
  }
  /** Number of elements. */
  get size(): number {
    return this.value.size;
  }
  /** True for tensors created directly (not produced by a recorded operation). */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  /** Sets whether this leaf records operations for a gradient. Only float tensors can require one. */
  requiresGrad_(flag = true): this {
    if (!this.isLeaf && !flag) {
      throw new GraphError("requiresGrad_: cannot turn off gradient tracking of a non-leaf tensor; use detach()");
    }
    if (flag && this.dtype !== "float32" && this.dtype !== "float64") {
      throw new DTypeError(`requiresGrad_: only float tensors can require gradients, got ${this.dtype} ${fmtShapeOf(this.shape)}`);
    }
    this.requiresGrad = flag;
    return this;
  }

  /** Keeps `grad` on this non-leaf tensor after backward. */
  retainGrad(): this {
    this.retainsGrad = true;
    return this;
  }

  /**
   * Backpropagates from this tensor. A scalar needs no `gradient`; any other shape needs one of its shape.
   * Gradients add up in `grad` across calls (call `zeroGrad` in between). The graph is freed afterwards unless
   * `retainGraph` is set. Second-order gradients are not supported: `createGraph: true`, or backward from a
   * `grad` (or a result computed from one without a graph), throws a `DoubleBackwardError`.
   */
  backward(gradient?: Tensor | NDArray, options: BackwardOptions = {}): void {
    runBackward(this, gradient, options);
  }

  /**
   * Drops the accumulated gradient and frees its data (PyTorch's `zero_grad(set_to_none=True)`), so the next
   * backward starts from nothing instead of adding to it.
   */
  zeroGrad(): void {
    this.grad?.dispose();
    this.grad = null;
  }

  /** The same data, cut off from the graph. */
  detach(): Tensor {
    return new Tensor(this.value);
  }

  /** Replaces the data (same shape and dtype), disposing the old array unless asked not to. Not recorded. */
  assign(value: NDArray, options: { disposeOld?: boolean } = {}): void {
    if (value.shape.length !== this.shape.length || value.shape.some((d, i) => d !== this.shape[i]) || value.dtype !== this.dtype) {
      throw new (value.dtype === this.dtype ? ShapeError : DTypeError)(
        `assign: expected ${this.dtype} ${fmtShapeOf(this.shape)}, got ${value.dtype} ${fmtShapeOf(value.shape)}`,
      );
    }
    const old = this.value;
    this.value = value;
    if (options.disposeOld !== false && old !== value) old.dispose();
  }

  /** Frees the data and the gradient's data. */
  dispose(): void {
    this.value.dispose();
    this.grad?.dispose();
  }

  /** Whether the data has been freed. */
  get isDisposed(): boolean {
    return this.value.isDisposed;
  }

  /** The arrays this tensor owns (data and gradient), so returning it from `tidy` keeps them alive. */
  [OWNED_ARRAYS](): NDArray[] {
    return this.grad ? [this.value, this.grad.value] : [this.value];
  }

  /** The values as a new typed array (contiguous, row-major). */
  data(): Promise<TypedArray> {
    return this.value.data();
  }
  /** `data()` synchronously, on devices that allow it (the CPU). */
  dataSync(): TypedArray {
    return this.value.dataSync();
  }
  /** The single value of a one-element tensor. */
  item(): Promise<number> {
    return this.value.item();
  }
  /** `item()` synchronously, on devices that allow it. */
  itemSync(): number {
    return this.value.itemSync();
  }
  /** Nested JS arrays of the values. */
  toArray(): Promise<unknown> {
    return this.value.toArray();
  }
  /** `toArray()` synchronously, on devices that allow it. */
  toArraySync(): unknown {
    return this.value.toArraySync();
  }
  /** The values, with the `gradFn` or `requiresGrad` flag. */
  toString(): string {
    const base = this.value.toString();
    const suffix = this.gradFn ? `, gradFn=<${this.gradFn.name}>` : this.requiresGrad ? ", requiresGrad=true" : "";
    return suffix ? `${base.slice(0, -1)}${suffix})` : base;
  }

  // elementwise
  /** `add(this, o)`: elementwise sum, broadcasting. */
  add(o: Operand): Tensor { return ew.add(this, o); }
  /** `sub(this, o)`: elementwise difference, broadcasting. */
  sub(o: Operand): Tensor { return ew.sub(this, o); }
  /** `mul(this, o)`: elementwise product, broadcasting. */
  mul(o: Operand): Tensor { return ew.mul(this, o); }
  /** `div(this, o)`: elementwise quotient, broadcasting. */
  div(o: Operand): Tensor { return ew.div(this, o); }
  /** `pow(this, o)`: this ** o, broadcasting. */
  pow(o: Operand): Tensor { return ew.pow(this, o); }
  /** `maximum(this, o)`: elementwise larger value. */
  maximum(o: Operand): Tensor { return ew.maximum(this, o); }
  /** `minimum(this, o)`: elementwise smaller value. */
  minimum(o: Operand): Tensor { return ew.minimum(this, o); }
  /** this = o (bool, no gradient). */
  eq(o: Operand): Tensor { return ew.eq(this, o); }
  /** this ≠ o (bool, no gradient). */
  ne(o: Operand): Tensor { return ew.ne(this, o); }
  /** this < o (bool, no gradient). */
  lt(o: Operand): Tensor { return ew.lt(this, o); }
  /** this ≤ o (bool, no gradient). */
  le(o: Operand): Tensor { return ew.le(this, o); }
  /** this > o (bool, no gradient). */
  gt(o: Operand): Tensor { return ew.gt(this, o); }
  /** this ≥ o (bool, no gradient). */
  ge(o: Operand): Tensor { return ew.ge(this, o); }
  /** this ≠ 0 and o ≠ 0 (bool, no gradient). */
  logicalAnd(o: Operand): Tensor { return ew.logicalAnd(this, o); }
  /** this ≠ 0 or o ≠ 0 (bool, no gradient). */
  logicalOr(o: Operand): Tensor { return ew.logicalOr(this, o); }
  /** −this. */
  neg(): Tensor { return ew.neg(this); }
  /** |this|. */
  abs(): Tensor { return ew.abs(this); }
  /** Sign (−1, 0, 1); zero gradient. */
  sign(): Tensor { return ew.sign(this); }
  /** eˣ. */
  exp(): Tensor { return ew.exp(this); }
  /** Natural logarithm. */
  log(): Tensor { return ew.log(this); }
  /** log(1 + x). */
  log1p(): Tensor { return ew.log1p(this); }
  /** eˣ − 1. */
  expm1(): Tensor { return ew.expm1(this); }
  /** √x. */
  sqrt(): Tensor { return ew.sqrt(this); }
  /** 1 / √x. */
  rsqrt(): Tensor { return ew.rsqrt(this); }
  /** x². */
  square(): Tensor { return ew.square(this); }
  /** 1 / x. */
  reciprocal(): Tensor { return ew.reciprocal(this); }
  /** sin x. */
  sin(): Tensor { return ew.sin(this); }
  /** cos x. */
  cos(): Tensor { return ew.cos(this); }
  /** tanh x. */
  tanh(): Tensor { return ew.tanh(this); }
  /** Logistic sigmoid. */
  sigmoid(): Tensor { return ew.sigmoid(this); }
  /** ln(1 + eˣ), x itself above 20. */
  softplus(): Tensor { return ew.softplus(this); }
  /** max(x, 0). */
  relu(): Tensor { return ew.relu(this); }
  /** ELU with slope `alpha` for negative inputs. */
  elu(alpha = 1): Tensor { return ew.elu(this, alpha); }
  /** Rounds down; zero gradient. */
  floor(): Tensor { return ew.floor(this); }
  /** Rounds up; zero gradient. */
  ceil(): Tensor { return ew.ceil(this); }
  /** Rounds to the nearest integer, halves to even; zero gradient. */
  round(): Tensor { return ew.round(this); }
  /** this == 0 (bool, no gradient). */
  logicalNot(): Tensor { return ew.logicalNot(this); }
  /** Limits to [min, max] (either may be omitted). */
  clamp(min?: number, max?: number): Tensor { return ew.clamp(this, min, max); }

  // reductions
  /** Sum over `dim` (all when omitted). */
  sum(dim?: Dims, keepdim = false): Tensor { return red.sum(this, dim, keepdim); }
  /** Mean over `dim` (all when omitted). */
  mean(dim?: Dims, keepdim = false): Tensor { return red.mean(this, dim, keepdim); }
  /** Product over `dim` (all when omitted). */
  prod(dim?: Dims, keepdim = false): Tensor { return red.prod(this, dim, keepdim); }
  /** Largest value over `dim` (all when omitted); ties share the gradient. */
  max(dim?: Dims, keepdim = false): Tensor { return red.max(this, dim, keepdim); }
  /** Smallest value over `dim` (all when omitted); ties share the gradient. */
  min(dim?: Dims, keepdim = false): Tensor { return red.min(this, dim, keepdim); }
  /** Variance over `dim` (Bessel-corrected unless `correction: 0`). */
  var(dim?: Dims, options?: { correction?: number; keepdim?: boolean }): Tensor { return red.variance(this, dim, options); }
  /** log Σ exp over `dim`, computed stably. */
  logSumExp(dim: Dims = -1, keepdim = false): Tensor { return red.logSumExp(this, dim, keepdim); }
  /** Index of the largest value (int32, no gradient). */
  argmax(dim?: number, keepdim = false): Tensor { return red.argmax(this, dim, keepdim); }
  /** Index of the smallest value (int32, no gradient). */
  argmin(dim?: number, keepdim = false): Tensor { return red.argmin(this, dim, keepdim); }

  // views
  /** Same elements, new shape (one size may be -1). */
  reshape(...shape: (number | readonly number[])[]): Tensor {
    return views.reshape(this, shape.length === 1 && typeof shape[0] !== "number" ? shape[0]! : (shape as number[]));
  }
  /** Alias of `reshape`. */
  view(...shape: (number | readonly number[])[]): Tensor { return this.reshape(...shape); }
  /** Reorders the dimensions. */
  permute(...dims: (number | readonly number[])[]): Tensor {
    return views.permute(this, dims.length === 1 && typeof dims[0] !== "number" ? dims[0]! : (dims as number[]));
  }
  /** Swaps two dimensions (default the last two). */
  transpose(dim0 = -2, dim1 = -1): Tensor { return views.transpose(this, dim0, dim1); }
  /** Transpose of a matrix (a vector or scalar is returned unchanged); higher ranks use `transpose`/`permute`. */
  get T(): Tensor {
    // Swapping the first two of more dimensions would silently differ from both NDArray.T and PyTorch.
    if (this.ndim > 2) throw new ShapeError(`T: needs rank ≤ 2, got shape ${fmtShapeOf(this.shape)}; use transpose or permute`);
    return this.ndim < 2 ? this : views.transpose(this, 0, 1);
  }
  /** Elements `start … start + length − 1` along `dim`. */
  narrow(dim: number, start: number, length: number): Tensor { return views.narrow(this, dim, start, length); }
  /** Python-style `start:end:step` along `dim`. */
  slice(dim: number, start?: number, end?: number, step = 1): Tensor { return views.slice(this, dim, start, end, step); }
  /** Index `index` along `dim`, dropping that dimension. */
  select(dim: number, index: number): Tensor { return views.select(this, dim, index); }
  /** Broadcasts size-1 dimensions to `shape`. */
  expand(...shape: (number | readonly number[])[]): Tensor {
    return views.expand(this, shape.length === 1 && typeof shape[0] !== "number" ? shape[0]! : (shape as number[]));
  }
  /** Broadcasts to `other`'s shape. */
  expandAs(other: Tensor): Tensor { return views.expand(this, other.shape); }
  /** Removes size-1 dimensions (all, or the given ones). */
  squeeze(dim?: number | readonly number[]): Tensor { return views.squeeze(this, dim); }
  /** Inserts a size-1 dimension at `dim`. */
  unsqueeze(dim: number): Tensor { return views.unsqueeze(this, dim); }
  /** Merges dimensions `startDim … endDim`. */
  flatten(startDim = 0, endDim = -1): Tensor { return views.flatten(this, startDim, endDim); }
  /** The values laid out contiguously (copied only when needed). */
  contiguous(): Tensor { return views.contiguous(this); }
  /** A contiguous copy. */
  clone(): Tensor { return views.clone(this); }
  /** Converts to `dtype`; float↔float casts carry the gradient back, integer results carry none. */
  cast(dtype: DType): Tensor { return views.cast(this, dtype); }
  /** Moves to another device (recorded: the gradient moves back). */
  to(device: string): Tensor { return views.to(this, device); }

  // the rest
  /** Matrix product (1-D, 2-D and batched operands, as PyTorch). */
  matmul(o: Tensor): Tensor { return matmul(this, o); }
  /** Softmax along `dim`. */
  softmax(dim = -1): Tensor { return softmax(this, dim); }
  /** log-softmax along `dim`. */
  logSoftmax(dim = -1): Tensor { return logSoftmax(this, dim); }
  /** Values at `index` along `dim` (`torch.gather`). */
  gather(dim: number, index: Tensor | NDArray): Tensor { return gather(this, dim, index); }
  /** The entries `index` (1-D) names along `dim`. */
  indexSelect(dim: number, index: Tensor | NDArray): Tensor { return indexSelect(this, dim, index); }
  /** Max pooling of [N, C, H, W]. */
  maxPool2d(kernelSize: Pair, options?: Pool2dOptions): Tensor { return maxPool2d(this, kernelSize, options); }
  /** Average pooling of [N, C, H, W]. */
  avgPool2d(kernelSize: Pair, options?: Pool2dOptions): Tensor { return avgPool2d(this, kernelSize, options); }
}

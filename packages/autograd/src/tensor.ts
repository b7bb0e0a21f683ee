import type { DType, NDArray, Pair, Pool2dOptions, TypedArray } from "@backprop/tensor";
import { fmtShapeOf, OWNED_ARRAYS } from "./util.ts";
import type { Node } from "./node.ts";
import { backward as runBackward } from "./engine.ts";
import * as ew from "./ops/elementwise.ts";
import * as red from "./ops/reduce.ts";
import * as views from "./ops/views.ts";
import { avgPool2d, matmul, maxPool2d } from "./ops/linalg.ts";
import { logSoftmax, softmax } from "./ops/softmax.ts";
import { gather, indexSelect } from "./ops/indexing.ts";

type Operand = Tensor | number;
type Dims = number | readonly number[];

/**
 * An array that can take part in reverse-mode differentiation. `value` holds the data (an `NDArray`);
 * operations on tensors that require a gradient record a graph, and `backward()` fills the `grad` of every
 * leaf tensor that requires one.
 */
export class Tensor {
  /** The data. Optimizers replace it in place with `assign`. */
  value: NDArray;
  requiresGrad: boolean;
  /** Accumulated gradient (leaves, and non-leaves after `retainGrad()`). */
  grad: Tensor | null = null;
  /** The operation that produced this tensor; null for leaves. */
  readonly gradFn: Node | null;
  /** Which output of `gradFn` this tensor is. */
  readonly outputIndex: number;
  retainsGrad = false;
  /** Optional label, shown in error messages and by modules. */
  name?: string;

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

  get shape(): readonly number[] {
    return this.value.shape;
  }
  get dtype(): DType {
    return this.value.dtype;
  }
  get device(): string {
    return this.value.device;
  }
  get ndim(): number {
    return this.value.ndim;
  }
  get size(): number {
    return this.value.size;
  }
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  /** Sets whether this leaf records operations for a gradient. Only float tensors can require one. */
  requiresGrad_(flag = true): this {
    if (!this.isLeaf && !flag) {
      throw new Error("requiresGrad_: cannot turn off gradient tracking of a non-leaf tensor; use detach()");
    }
    if (flag && this.dtype !== "float32" && this.dtype !== "float64") {
      throw new TypeError(`requiresGrad_: only float tensors can require gradients, got ${this.dtype} ${fmtShapeOf(this.shape)}`);
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
   * `retainGraph` is set.
   */
  backward(gradient?: Tensor | NDArray, options: { retainGraph?: boolean } = {}): void {
    runBackward(this, gradient, options.retainGraph ?? false);
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
      throw new TypeError(
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

  get isDisposed(): boolean {
    return this.value.isDisposed;
  }

  [OWNED_ARRAYS](): NDArray[] {
    return this.grad ? [this.value, this.grad.value] : [this.value];
  }

  data(): Promise<TypedArray> {
    return this.value.data();
  }
  dataSync(): TypedArray {
    return this.value.dataSync();
  }
  item(): Promise<number> {
    return this.value.item();
  }
  itemSync(): number {
    return this.value.itemSync();
  }
  toArray(): Promise<unknown> {
    return this.value.toArray();
  }
  toArraySync(): unknown {
    return this.value.toArraySync();
  }
  toString(): string {
    const base = this.value.toString();
    const suffix = this.gradFn ? `, gradFn=<${this.gradFn.name}>` : this.requiresGrad ? ", requiresGrad=true" : "";
    return suffix ? `${base.slice(0, -1)}${suffix})` : base;
  }

  // elementwise
  add(o: Operand): Tensor { return ew.add(this, o); }
  sub(o: Operand): Tensor { return ew.sub(this, o); }
  mul(o: Operand): Tensor { return ew.mul(this, o); }
  div(o: Operand): Tensor { return ew.div(this, o); }
  pow(o: Operand): Tensor { return ew.pow(this, o); }
  maximum(o: Operand): Tensor { return ew.maximum(this, o); }
  minimum(o: Operand): Tensor { return ew.minimum(this, o); }
  eq(o: Operand): Tensor { return ew.eq(this, o); }
  ne(o: Operand): Tensor { return ew.ne(this, o); }
  lt(o: Operand): Tensor { return ew.lt(this, o); }
  le(o: Operand): Tensor { return ew.le(this, o); }
  gt(o: Operand): Tensor { return ew.gt(this, o); }
  ge(o: Operand): Tensor { return ew.ge(this, o); }
  neg(): Tensor { return ew.neg(this); }
  abs(): Tensor { return ew.abs(this); }
  sign(): Tensor { return ew.sign(this); }
  exp(): Tensor { return ew.exp(this); }
  log(): Tensor { return ew.log(this); }
  log1p(): Tensor { return ew.log1p(this); }
  expm1(): Tensor { return ew.expm1(this); }
  sqrt(): Tensor { return ew.sqrt(this); }
  rsqrt(): Tensor { return ew.rsqrt(this); }
  square(): Tensor { return ew.square(this); }
  reciprocal(): Tensor { return ew.reciprocal(this); }
  sin(): Tensor { return ew.sin(this); }
  cos(): Tensor { return ew.cos(this); }
  tanh(): Tensor { return ew.tanh(this); }
  sigmoid(): Tensor { return ew.sigmoid(this); }
  relu(): Tensor { return ew.relu(this); }
  elu(alpha = 1): Tensor { return ew.elu(this, alpha); }
  clamp(min?: number, max?: number): Tensor { return ew.clamp(this, min, max); }

  // reductions
  sum(dim?: Dims, keepdim = false): Tensor { return red.sum(this, dim, keepdim); }
  mean(dim?: Dims, keepdim = false): Tensor { return red.mean(this, dim, keepdim); }
  prod(dim?: Dims, keepdim = false): Tensor { return red.prod(this, dim, keepdim); }
  max(dim?: Dims, keepdim = false): Tensor { return red.max(this, dim, keepdim); }
  min(dim?: Dims, keepdim = false): Tensor { return red.min(this, dim, keepdim); }
  var(dim?: Dims, options?: { correction?: number; keepdim?: boolean }): Tensor { return red.variance(this, dim, options); }
  logSumExp(dim: Dims = -1, keepdim = false): Tensor { return red.logSumExp(this, dim, keepdim); }
  argmax(dim?: number, keepdim = false): Tensor { return red.argmax(this, dim, keepdim); }
  argmin(dim?: number, keepdim = false): Tensor { return red.argmin(this, dim, keepdim); }

  // views
  reshape(...shape: (number | readonly number[])[]): Tensor {
    return views.reshape(this, shape.length === 1 && typeof shape[0] !== "number" ? shape[0]! : (shape as number[]));
  }
  view(...shape: (number | readonly number[])[]): Tensor { return this.reshape(...shape); }
  permute(...dims: (number | readonly number[])[]): Tensor {
    return views.permute(this, dims.length === 1 && typeof dims[0] !== "number" ? dims[0]! : (dims as number[]));
  }
  transpose(dim0 = -2, dim1 = -1): Tensor { return views.transpose(this, dim0, dim1); }
  get T(): Tensor { return this.ndim < 2 ? this : views.transpose(this, 0, 1); }
  narrow(dim: number, start: number, length: number): Tensor { return views.narrow(this, dim, start, length); }
  slice(dim: number, start?: number, end?: number, step = 1): Tensor { return views.slice(this, dim, start, end, step); }
  select(dim: number, index: number): Tensor { return views.select(this, dim, index); }
  expand(...shape: (number | readonly number[])[]): Tensor {
    return views.expand(this, shape.length === 1 && typeof shape[0] !== "number" ? shape[0]! : (shape as number[]));
  }
  expandAs(other: Tensor): Tensor { return views.expand(this, other.shape); }
  squeeze(dim?: number | readonly number[]): Tensor { return views.squeeze(this, dim); }
  unsqueeze(dim: number): Tensor { return views.unsqueeze(this, dim); }
  flatten(startDim = 0, endDim = -1): Tensor { return views.flatten(this, startDim, endDim); }
  contiguous(): Tensor { return views.contiguous(this); }
  clone(): Tensor { return views.clone(this); }
  cast(dtype: DType): Tensor { return views.cast(this, dtype); }
  /** Moves to another device (recorded: the gradient moves back). */
  to(device: string): Tensor { return views.to(this, device); }

  // the rest
  matmul(o: Tensor): Tensor { return matmul(this, o); }
  softmax(dim = -1): Tensor { return softmax(this, dim); }
  logSoftmax(dim = -1): Tensor { return logSoftmax(this, dim); }
  gather(dim: number, index: Tensor | NDArray): Tensor { return gather(this, dim, index); }
  indexSelect(dim: number, index: Tensor | NDArray): Tensor { return indexSelect(this, dim, index); }
  maxPool2d(kernelSize: Pair, options?: Pool2dOptions): Tensor { return maxPool2d(this, kernelSize, options); }
  avgPool2d(kernelSize: Pair, options?: Pool2dOptions): Tensor { return avgPool2d(this, kernelSize, options); }
}

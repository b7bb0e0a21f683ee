import { type Backend, getBackend, type Storage, type StridedView } from "./backend.ts";
import type { DType, TypedArray } from "./dtype.ts";
import { DeviceError, DisposedError, fmtShape, ShapeError, ValueError } from "./errors.ts";
import { formatArray } from "./format.ts";
import { contiguousStrides, filled, isContiguous, normalizeAxis, type Shape, shapesEqual, sizeOf } from "./shape.ts";
import { keep, track } from "./scope.ts";
import * as ew from "./ops/elementwise.ts";
import * as red from "./ops/reduce.ts";
import { matmul } from "./ops/matmul.ts";
import { logSoftmax, softmax } from "./ops/softmax.ts";
import { gather, indexSelect } from "./ops/indexing.ts";
import type { Operand } from "./ops/operands.ts";


/**
 * An n-dimensional array on one device: a storage plus shape, strides and offset (all in elements).
 * Views (reshape of contiguous data, permute, transpose, narrow, expand, squeeze, …) share the storage;
 * operations return new arrays. Values are read with `await a.data()` (or `dataSync()` on the CPU).
 */
export class NDArray implements StridedView, ew.ElementwiseMethods<NDArray, Operand> {
  /** The memory the elements live in, shared by views. */
  readonly storage: Storage;
  /** Size of each dimension (`[]` for a 0-d scalar). */
  readonly shape: readonly number[];
  /** Per dimension, the distance in elements between neighbours (0 where a dimension is broadcast). */
  readonly strides: readonly number[];
  /** Element index of the first element in the storage. */
  readonly offset: number;
  #disposed = false;

  /**
   * Wraps a storage (a backend kernel's result) in an array that takes one reference to it and belongs to the
   * innermost open `tidy` scope. Strides default to row-major.
   */
  constructor(storage: Storage, shape: Shape, strides?: readonly number[], offset = 0) {
    this.storage = storage;
    // Own copies, typed readonly but not frozen: Object.freeze is a runtime call that took a quarter of a small
    // op's time (docs/PERFORMANCE.md), and every op makes one or more arrays.
    this.shape = [...shape];
    this.strides = strides ? [...strides] : contiguousStrides(shape);
    this.offset = offset;
    storage.refs++;
    track(this);
  }

  /** Element type. */
  get dtype(): DType {
    return this.storage.dtype;
  }
  /** The backend that owns the storage. */
  get backend(): Backend {
    return this.storage.backend;
  }
  /** The device name: `"cpu"`, `"webgpu"`. */
  get device(): string {
    return this.storage.backend.name;
  }
  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }
  /** Number of elements. */
  get size(): number {
    return sizeOf(this.shape);
  }
  /** Whether `dispose()` was called. */
  get isDisposed(): boolean {
    return this.#disposed;
  }

  /** Drops this array's reference to its storage; the memory is freed when no view uses it any more. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    if (--this.storage.refs === 0) this.backend.release(this.storage);
  }

  /** Exempts this array from every enclosing `tidy` scope. */
  keep(): this {
    return keep(this);
  }

  /** Throws a DisposedError naming `op` when the array was disposed. */
  assertAlive(op: string): void {
    if (this.#disposed) {
      throw new DisposedError(`${op}: the array of shape ${fmtShape(this.shape)} was disposed and cannot be used`);
    }
  }

  /** Whether the elements are exactly the whole storage, row-major from element 0 (what storage kernels read). */
  isContiguous(): boolean {
    return this.offset === 0 && isContiguous(this.shape, this.strides) && this.size === this.storage.size;
  }

  /** This array if it is already contiguous and starts its storage, else a contiguous copy. */
  contiguous(): NDArray {
    this.assertAlive("contiguous");
    return this.isContiguous() ? this : this.clone();
  }

  /** A contiguous copy (also of a contiguous array). */
  clone(): NDArray {
    return this.cast(this.dtype, true);
  }

  /** A copy converted to `dtype` (this array itself when it already has that dtype, unless `copy`). */
  cast(dtype: DType, copy = false): NDArray {
    this.assertAlive("cast");
    if (dtype === this.dtype && !copy) return this;
    const out = new NDArray(this.backend.alloc(dtype, this.size), this.shape);
    this.backend.copy(this, out);
    return out;
  }

  /** Moves to another device (`"cpu"`, `"webgpu"`). Synchronous when the source device can read synchronously. */
  to(device: string): NDArray {
    this.assertAlive("to");
    if (device === this.device) return this;
    const target = getBackend(device);
    if (!this.backend.readSync) {
      throw new DeviceError(
        `to: reading from "${this.device}" is asynchronous; use \`await a.toAsync("${device}")\``,
      );
    }
    const src = this.contiguous();
    const data = this.backend.readSync(src.storage);
    if (src !== this) src.dispose();
    return new NDArray(target.upload(data, this.dtype), this.shape);
  }

  /** Moves to another device, reading asynchronously (works from every device). */
  async toAsync(device: string): Promise<NDArray> {
    this.assertAlive("toAsync");
    if (device === this.device) return this;
    const target = getBackend(device);
    const data = await this.data();
    return new NDArray(target.upload(data, this.dtype), this.shape);
  }

  /** The values, contiguous, as a new typed array. */
  async data(): Promise<TypedArray> {
    this.assertAlive("data");
    if (this.isContiguous()) return await this.backend.read(this.storage);
    const c = this.clone();
    try {
      return await this.backend.read(c.storage);
    } finally {
      c.dispose();
    }
  }

  /** Synchronous `data()`, on devices that allow it (the CPU). */
  dataSync(): TypedArray {
    this.assertAlive("dataSync");
    const readSync = this.backend.readSync;
    if (!readSync) {
      throw new DeviceError(`dataSync: device "${this.device}" reads asynchronously; use \`await a.data()\``);
    }
    if (this.isContiguous()) return readSync.call(this.backend, this.storage);
    const c = this.clone();
    const out = readSync.call(this.backend, c.storage);
    c.dispose();
    return out;
  }

  /** The single value of a one-element array. */
  async item(): Promise<number> {
    this.checkItem("item");
    return (await this.data())[0]!;
  }

  /** Synchronous `item()`, on devices that allow it (the CPU). */
  itemSync(): number {
    this.checkItem("itemSync");
    return this.dataSync()[0]!;
  }

  /** Throws unless the array has exactly one element. */
  private checkItem(op: string): void {
    if (this.size !== 1) {
      throw new ShapeError(`${op}: needs an array with exactly one element, got shape ${fmtShape(this.shape)}`);
    }
  }

  /** Nested JS arrays (numbers; booleans for bool). */
  async toArray(): Promise<unknown> {
    return nest(await this.data(), this.shape, this.dtype);
  }

  /** Synchronous `toArray()`, on devices that allow it (the CPU). */
  toArraySync(): unknown {
    return nest(this.dataSync(), this.shape, this.dtype);
  }

  /** PyTorch-style text of the values (CPU), or a placeholder naming the device. */
  toString(): string {
    if (this.isDisposed) return `tensor(<disposed>, shape=${fmtShape(this.shape)})`;
    if (!this.backend.readSync) return `tensor(<on ${this.device}>, shape=${fmtShape(this.shape)}, dtype=${this.dtype})`;
    return formatArray(this.dataSync(), this.shape, this.dtype, this.device);
  }

  // ---- views ----

  /** A view with new strides over the same storage; `op` names the caller in errors. */
  private view(op: string, shape: Shape, strides: readonly number[], offset = this.offset): NDArray {
    this.assertAlive(op);
    return new NDArray(this.storage, shape, strides, offset);
  }

  /**
   * Same elements, new shape (one dimension may be -1). A view when the layout allows, else a copy,
   * as PyTorch's `reshape`.
   */
  reshape(...shapeArgs: (number | readonly number[])[]): NDArray {
    this.assertAlive("reshape");
    const shape = inferShape("reshape", this.size, flattenShapeArgs(shapeArgs), this.shape);
    if (isContiguous(this.shape, this.strides)) return this.view("reshape", shape, contiguousStrides(shape));
    const strides = viewStrides(this.shape, this.strides, shape);
    if (strides) return this.view("reshape", shape, strides);
    const c = this.clone();
    const r = c.view("reshape", shape, contiguousStrides(shape), 0);
    c.dispose();
    return r;
  }

  /** Reorders the dimensions: `dims[i]` is the source dimension of result dimension i. */
  permute(...dimsArgs: (number | readonly number[])[]): NDArray {
    const dims = flattenShapeArgs(dimsArgs).map((d) => normalizeAxis("permute", d, this.ndim));
    if (dims.length !== this.ndim || new Set(dims).size !== dims.length) {
      throw new ValueError(`permute: ${fmtShape(dims)} is not a permutation of the ${this.ndim} dimensions`);
    }
    return this.view("permute", dims.map((d) => this.shape[d]!), dims.map((d) => this.strides[d]!));
  }

  /** Swaps two dimensions (default: the last two). */
  transpose(dim0 = -2, dim1 = -1): NDArray {
    const a = normalizeAxis("transpose", dim0, this.ndim);
    const b = normalizeAxis("transpose", dim1, this.ndim);
    const dims = Array.from({ length: this.ndim }, (_, i) => i);
    dims[a] = b;
    dims[b] = a;
    return this.permute(dims);
  }

  /** Transpose of a matrix (rank ≤ 2). */
  get T(): NDArray {
    if (this.ndim > 2) throw new ShapeError(`T: needs rank ≤ 2, got shape ${fmtShape(this.shape)}; use permute`);
    return this.ndim < 2 ? this : this.transpose(0, 1);
  }

  /** Elements `start … start + length - 1` along `dim` (a view). */
  narrow(dim: number, start: number, length: number): NDArray {
    const d = normalizeAxis("narrow", dim, this.ndim);
    const n = this.shape[d]!;
    if (start < 0) start += n;
    if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 0 || start + length > n) {
      throw new ValueError(`narrow: start ${start} and length ${length} do not fit dimension ${dim} of size ${n}`);
    }
    const shape = [...this.shape];
    shape[d] = length;
    return this.view("narrow", shape, this.strides, this.offset + start * this.strides[d]!);
  }

  /** Python-style slice `start:end:step` along `dim` (negative indices count from the end; a view). */
  slice(dim: number, start?: number, end?: number, step = 1): NDArray {
    const d = normalizeAxis("slice", dim, this.ndim);
    const n = this.shape[d]!;
    if (!Number.isInteger(step) || step <= 0) throw new ValueError(`slice: step must be a positive integer, got ${step}`);
    const clampIdx = (i: number) => Math.min(n, Math.max(0, i < 0 ? i + n : i));
    const s = start === undefined ? 0 : clampIdx(start);
    const e = end === undefined ? n : clampIdx(end);
    const len = Math.max(0, Math.ceil((e - s) / step));
    const shape = [...this.shape];
    const strides = [...this.strides];
    shape[d] = len;
    strides[d] = this.strides[d]! * step;
    return this.view("slice", shape, strides, len === 0 ? this.offset : this.offset + s * this.strides[d]!);
  }

  /** Index `index` along `dim`, removing that dimension (a view). */
  select(dim: number, index: number): NDArray {
    const d = normalizeAxis("select", dim, this.ndim);
    const n = this.shape[d]!;
    const i = index < 0 ? index + n : index;
    if (!Number.isInteger(i) || i < 0 || i >= n) {
      throw new ValueError(`select: index ${index} is out of range for dimension ${dim} of size ${n}`);
    }
    return this.view(
      "select",
      this.shape.filter((_, k) => k !== d),
      this.strides.filter((_, k) => k !== d),
      this.offset + i * this.strides[d]!,
    );
  }

  /** Broadcasts size-1 dimensions to `shape` (a view with stride 0; -1 keeps a size). */
  expand(...shapeArgs: (number | readonly number[])[]): NDArray {
    const shape = flattenShapeArgs(shapeArgs);
    if (shape.length < this.ndim) {
      throw new ShapeError(`expand: cannot expand shape ${fmtShape(this.shape)} to fewer dimensions ${fmtShape(shape)}`);
    }
    const lead = shape.length - this.ndim;
    const outShape: number[] = [];
    const strides: number[] = [];
    for (let i = 0; i < shape.length; i++) {
      const src = i - lead;
      const have = src >= 0 ? this.shape[src]! : 1;
      const want = shape[i] === -1 && src >= 0 ? have : shape[i]!;
      if (!Number.isInteger(want) || want < 0) {
        throw new ValueError(
          `expand: size ${shape[i]} at dimension ${i} of ${fmtShape(shape)} is invalid ` +
            `(-1, "keep the size", only applies to dimensions ${fmtShape(this.shape)} already has)`,
        );
      }
      if (have !== want && have !== 1) {
        throw new ShapeError(
          `expand: dimension ${i} of shape ${fmtShape(this.shape)} is ${have} and cannot become ${want} ` +
            `(target ${fmtShape(shape)})`,
        );
      }
      outShape.push(want);
      strides.push(src >= 0 && have === want ? this.strides[src]! : 0);
    }
    return this.view("expand", outShape, strides);
  }

  /** `expand` to another array's shape. */
  expandAs(other: NDArray): NDArray {
    return this.expand(other.shape);
  }

  /** Removes size-1 dimensions (all, or the given ones; a given one that is not size 1 is left, as in PyTorch). */
  squeeze(dim?: number | readonly number[]): NDArray {
    const dims = dim === undefined
      ? this.shape.map((_, i) => i)
      : (typeof dim === "number" ? [dim] : dim).map((d) => normalizeAxis("squeeze", d, this.ndim));
    const drop = new Set(dims.filter((d) => this.shape[d] === 1));
    return this.view("squeeze", this.shape.filter((_, i) => !drop.has(i)), this.strides.filter((_, i) => !drop.has(i)));
  }

  /** Inserts a size-1 dimension at `dim` (which may be `ndim`, or negative). */
  unsqueeze(dim: number): NDArray {
    const d = normalizeAxis("unsqueeze", dim, this.ndim + 1);
    const shape = [...this.shape];
    const strides = [...this.strides];
    shape.splice(d, 0, 1);
    strides.splice(d, 0, d < this.ndim ? this.strides[d]! * this.shape[d]! : 1);
    return this.view("unsqueeze", shape, strides);
  }

  /** Merges dimensions `startDim … endDim` into one. */
  flatten(startDim = 0, endDim = -1): NDArray {
    if (this.ndim === 0) return this.reshape([1]);
    const s = normalizeAxis("flatten", startDim, this.ndim);
    const e = normalizeAxis("flatten", endDim, this.ndim);
    if (s > e) throw new ValueError(`flatten: startDim ${startDim} comes after endDim ${endDim}`);
    const merged = this.shape.slice(s, e + 1).reduce((a, b) => a * b, 1);
    return this.reshape([...this.shape.slice(0, s), merged, ...this.shape.slice(e + 1)]);
  }

  // ---- elementwise ----
  /** Elementwise `this + other`, broadcasting. */
  add(other: Operand): NDArray { return ew.add(this, other); }
  /** Elementwise `this − other`, broadcasting. */
  sub(other: Operand): NDArray { return ew.sub(this, other); }
  /** Elementwise `this · other`, broadcasting. */
  mul(other: Operand): NDArray { return ew.mul(this, other); }
  /** Elementwise true division (integers give float32). */
  div(other: Operand): NDArray { return ew.div(this, other); }
  /** Elementwise `this ** other`. */
  pow(other: Operand): NDArray { return ew.pow(this, other); }
  /** Elementwise larger value (NaN propagates). */
  maximum(other: Operand): NDArray { return ew.maximum(this, other); }
  /** Elementwise smaller value (NaN propagates). */
  minimum(other: Operand): NDArray { return ew.minimum(this, other); }
  /** Elementwise `==`, as bool. */
  eq(other: Operand): NDArray { return ew.eq(this, other); }
  /** Elementwise `!=`, as bool. */
  ne(other: Operand): NDArray { return ew.ne(this, other); }
  /** Elementwise `<`, as bool. */
  lt(other: Operand): NDArray { return ew.lt(this, other); }
  /** Elementwise `<=`, as bool. */
  le(other: Operand): NDArray { return ew.le(this, other); }
  /** Elementwise `>`, as bool. */
  gt(other: Operand): NDArray { return ew.gt(this, other); }
  /** Elementwise `>=`, as bool. */
  ge(other: Operand): NDArray { return ew.ge(this, other); }
  /** Elementwise `this ≠ 0 and other ≠ 0`, as bool. */
  logicalAnd(other: Operand): NDArray { return ew.logicalAnd(this, other); }
  /** Elementwise `this ≠ 0 or other ≠ 0`, as bool. */
  logicalOr(other: Operand): NDArray { return ew.logicalOr(this, other); }
  /** −x. */
  neg(): NDArray { return ew.neg(this); }
  /** |x|. */
  abs(): NDArray { return ew.abs(this); }
  /** −1, 0 or 1. */
  sign(): NDArray { return ew.sign(this); }
  /** eˣ. */
  exp(): NDArray { return ew.exp(this); }
  /** Natural logarithm. */
  log(): NDArray { return ew.log(this); }
  /** ln(1 + x), accurate for small x. */
  log1p(): NDArray { return ew.log1p(this); }
  /** eˣ − 1, accurate for small x. */
  expm1(): NDArray { return ew.expm1(this); }
  /** √x. */
  sqrt(): NDArray { return ew.sqrt(this); }
  /** 1 / √x. */
  rsqrt(): NDArray { return ew.rsqrt(this); }
  /** x². */
  square(): NDArray { return ew.square(this); }
  /** 1 / x. */
  reciprocal(): NDArray { return ew.reciprocal(this); }
  /** Sine. */
  sin(): NDArray { return ew.sin(this); }
  /** Cosine. */
  cos(): NDArray { return ew.cos(this); }
  /** Hyperbolic tangent. */
  tanh(): NDArray { return ew.tanh(this); }
  /** 1 / (1 + e⁻ˣ), computed without overflow. */
  sigmoid(): NDArray { return ew.sigmoid(this); }
  /** ln(1 + eˣ), x itself above 20. */
  softplus(): NDArray { return ew.softplus(this); }
  /** max(x, 0). */
  relu(): NDArray { return ew.relu(this); }
  /** x for x > 0, alpha·(eˣ − 1) otherwise. */
  elu(alpha = 1): NDArray { return ew.elu(this, alpha); }
  /** Largest integer ≤ x. */
  floor(): NDArray { return ew.floor(this); }
  /** Smallest integer ≥ x. */
  ceil(): NDArray { return ew.ceil(this); }
  /** Nearest integer, halves to even. */
  round(): NDArray { return ew.round(this); }
  /** x == 0, as bool. */
  logicalNot(): NDArray { return ew.logicalNot(this); }
  /** Limits values to [min, max] (either may be omitted). */
  clamp(min?: number, max?: number): NDArray { return ew.clamp(this, min, max); }

  // ---- reductions ----
  /** Sum over `dim` (all when omitted). */
  sum(dim?: number | readonly number[], keepdim = false): NDArray { return red.sum(this, dim, keepdim); }
  /** Mean over `dim` (all when omitted). */
  mean(dim?: number | readonly number[], keepdim = false): NDArray { return red.mean(this, dim, keepdim); }
  /** Product over `dim` (all when omitted). */
  prod(dim?: number | readonly number[], keepdim = false): NDArray { return red.prod(this, dim, keepdim); }
  /** Maximum over `dim` (all when omitted). */
  max(dim?: number | readonly number[], keepdim = false): NDArray { return red.max(this, dim, keepdim); }
  /** Minimum over `dim` (all when omitted). */
  min(dim?: number | readonly number[], keepdim = false): NDArray { return red.min(this, dim, keepdim); }
  /** Index of the first maximum along `dim` (of the flattened array when omitted). */
  argmax(dim?: number, keepdim = false): NDArray { return red.argmax(this, dim, keepdim); }
  /** Index of the first minimum along `dim` (of the flattened array when omitted). */
  argmin(dim?: number, keepdim = false): NDArray { return red.argmin(this, dim, keepdim); }
  /** Variance over `dim`, with Bessel's correction unless `correction` says otherwise. */
  var(dim?: number | readonly number[], options?: { correction?: number; keepdim?: boolean }): NDArray {
    return red.variance(this, dim, options);
  }

  // ---- the rest ----
  /** Matrix product with PyTorch's `matmul` rules (1-D operands, broadcast batches). */
  matmul(other: NDArray): NDArray { return matmul(this, other); }
  /** Softmax along `dim`. */
  softmax(dim = -1): NDArray { return softmax(this, dim); }
  /** log(softmax) along `dim`, computed stably. */
  logSoftmax(dim = -1): NDArray { return logSoftmax(this, dim); }
  /** Values at `index` along `dim` (as `torch.gather`). */
  gather(dim: number, index: NDArray): NDArray { return gather(this, dim, index); }
  /** The slices `index` names along `dim`. */
  indexSelect(dim: number, index: NDArray): NDArray { return indexSelect(this, dim, index); }
}

function flattenShapeArgs(args: (number | readonly number[])[]): number[] {
  return args.length === 1 && typeof args[0] !== "number" ? [...args[0]!] : (args as number[]);
}

function inferShape(op: string, size: number, shape: number[], from: Shape): number[] {
  const unknown = shape.indexOf(-1);
  if (shape.some((d, i) => (d < 0 && i !== unknown) || !Number.isInteger(d)) || shape.lastIndexOf(-1) !== unknown) {
    throw new ValueError(`${op}: invalid shape ${fmtShape(shape)} (sizes must be non-negative integers, at most one -1)`);
  }
  if (unknown >= 0) {
    const known = shape.reduce((a, d, i) => (i === unknown ? a : a * d), 1);
    if (known === 0 || size % known !== 0) {
      throw new ShapeError(`${op}: cannot reshape ${fmtShape(from)} (${size} elements) into ${fmtShape(shape)}`);
    }
    shape = [...shape];
    shape[unknown] = size / known;
  }
  if (sizeOf(shape) !== size) {
    throw new ShapeError(`${op}: cannot reshape ${fmtShape(from)} (${size} elements) into ${fmtShape(shape)}`);
  }
  return shape;
}

/**
 * Strides that let a non-contiguous array be seen with `newShape` without copying, or null.
 * Groups old dimensions that are contiguous with each other and splits/merges within groups (as PyTorch's
 * `computeStride`).
 */
function viewStrides(oldShape: Shape, oldStrides: readonly number[], newShape: Shape): number[] | null {
  if (shapesEqual(oldShape, newShape)) return [...oldStrides];
  const newStrides = filled(newShape.length, 0);
  let viewD = newShape.length - 1;
  let chunkBase = oldStrides[oldStrides.length - 1] ?? 1;
  let tensorNumel = 1;
  let viewNumel = 1;
  for (let tensorD = oldShape.length - 1; tensorD >= 0; tensorD--) {
    tensorNumel *= oldShape[tensorD]!;
    if (tensorD === 0 || (oldShape[tensorD - 1] !== 1 && oldStrides[tensorD - 1] !== tensorNumel * chunkBase)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] === 1)) {
        newStrides[viewD] = viewNumel * chunkBase;
        viewNumel *= newShape[viewD]!;
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (tensorD > 0) {
        chunkBase = oldStrides[tensorD - 1]!;
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  return viewD === -1 ? newStrides : null;
}

function nest(data: TypedArray, shape: Shape, dtype: DType): unknown {
  const conv = dtype === "bool" ? (v: number) => v !== 0 : (v: number) => v;
  if (shape.length === 0) return conv(data[0]!);
  const build = (dim: number, offset: number): unknown[] => {
    const n = shape[dim]!;
    const step = sizeOf(shape.slice(dim + 1));
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) {
      out.push(dim === shape.length - 1 ? conv(data[offset + i]!) : build(dim + 1, offset + i * step));
    }
    return out;
  };
  return build(0, 0);
}

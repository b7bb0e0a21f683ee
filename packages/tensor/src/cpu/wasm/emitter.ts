// A byte-level WebAssembly module builder. The kernels are generated at run time from TypeScript so the
// library needs no external toolchain, ships no binary blobs, and can bake tuning constants (tile sizes,
// relaxed or plain multiply-add) into the code it emits.
import { Op, OpFC, OpSimd, Section, type ValType } from "./opcodes.ts";
import { InternalError } from "../../errors.ts";

export { ValType } from "./opcodes.ts";

/** A parameter or local of the function being built. */
export interface Local {
  readonly index: number;
  readonly type: ValType;
}

/** A branch target; `br` turns it into a relative depth so generators never count nesting by hand. */
export interface Label {
  readonly id: number;
}

/** Something that pushes one value: a local, an i32 constant, or a callback that emits code. */
export type Operand = Local | number | (() => void);

function writeUleb(out: number[], value: number): void {
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
}

function writeSleb(out: number[], value: number): void {
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) ||
      (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return;
  }
}

function writeString(out: number[], s: string): void {
  const bytes = new TextEncoder().encode(s);
  writeUleb(out, bytes.length);
  for (const b of bytes) out.push(b);
}

function writeVector(out: number[], items: number[][]): void {
  writeUleb(out, items.length);
  for (const item of items) for (const b of item) out.push(b);
}

const f32Scratch = new DataView(new ArrayBuffer(4));
const f64Scratch = new DataView(new ArrayBuffer(8));

/** Emits the body of one function; instruction methods accept optional operands pushed first. */
export class FunctionBuilder {
  readonly bytes: number[] = [];
  readonly params: readonly Local[];
  private readonly extraLocals: ValType[] = [];
  private readonly openLabels: number[] = [];
  private nextLabel = 0;

  constructor(
    readonly index: number,
    readonly name: string,
    readonly paramTypes: readonly ValType[],
    readonly resultTypes: readonly ValType[],
    readonly exported: boolean,
  ) {
    this.params = paramTypes.map((type, index) => ({ index, type }));
  }

  local(type: ValType): Local {
    this.extraLocals.push(type);
    return {
      index: this.paramTypes.length + this.extraLocals.length - 1,
      type,
    };
  }

  locals(type: ValType, count: number): Local[] {
    return Array.from({ length: count }, () => this.local(type));
  }

  /** The encoded body: run-length local declarations followed by the code and `end`. */
  encodeBody(): number[] {
    const groups: [number, ValType][] = [];
    for (const t of this.extraLocals) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    const body: number[] = [];
    writeUleb(body, groups.length);
    for (const [count, type] of groups) {
      writeUleb(body, count);
      body.push(type);
    }
    for (const b of this.bytes) body.push(b);
    body.push(Op.end);
    const out: number[] = [];
    writeUleb(out, body.length);
    for (const b of body) out.push(b);
    return out;
  }

  // ---- raw emission -------------------------------------------------------------------------

  emit(...bytes: number[]): this {
    for (const b of bytes) this.bytes.push(b);
    return this;
  }

  push(x: Operand | undefined): this {
    if (x === undefined) return this;
    if (typeof x === "number") return this.i32Const(x);
    if (typeof x === "function") {
      x();
      return this;
    }
    return this.get(x);
  }

  private pushAll(xs: (Operand | undefined)[]): void {
    for (const x of xs) this.push(x);
  }

  private simd(op: number): this {
    this.bytes.push(0xfd);
    writeUleb(this.bytes, op);
    return this;
  }

  private memarg(alignLog2: number, offset: number): void {
    writeUleb(this.bytes, alignLog2);
    writeUleb(this.bytes, offset);
  }

  // ---- locals and constants -----------------------------------------------------------------

  get(l: Local): this {
    this.bytes.push(Op.localGet);
    writeUleb(this.bytes, l.index);
    return this;
  }

  set(l: Local, value?: Operand): this {
    this.push(value);
    this.bytes.push(Op.localSet);
    writeUleb(this.bytes, l.index);
    return this;
  }

  tee(l: Local, value?: Operand): this {
    this.push(value);
    this.bytes.push(Op.localTee);
    writeUleb(this.bytes, l.index);
    return this;
  }

  i32Const(v: number): this {
    this.bytes.push(Op.i32Const);
    writeSleb(this.bytes, v);
    return this;
  }

  f32Const(v: number): this {
    this.bytes.push(Op.f32Const);
    f32Scratch.setFloat32(0, v, true);
    for (let i = 0; i < 4; i++) this.bytes.push(f32Scratch.getUint8(i));
    return this;
  }

  /** Adds a constant to an i32 local in place (pointer bumps in loops). */
  inc(l: Local, by: Operand): this {
    return this.set(l, () => this.i32Add(l, by));
  }

  // ---- i32 arithmetic and comparisons -------------------------------------------------------

  private bin(op: number, a?: Operand, b?: Operand): this {
    this.pushAll([a, b]);
    this.bytes.push(op);
    return this;
  }

  i32Add(a?: Operand, b?: Operand): this {
    return this.bin(Op.i32Add, a, b);
  }
  i32Sub(a?: Operand, b?: Operand): this {
    return this.bin(Op.i32Sub, a, b);
  }
  i32Mul(a?: Operand, b?: Operand): this {
    return this.bin(Op.i32Mul, a, b);
  }
  i32DivU(a?: Operand, b?: Operand): this {
    return this.bin(Op.i32DivU, a, b);
  }
  i32And(a?: Operand, b?: Operand): this {
    return this.bin(Op.i32And, a, b);
  }
  i32Or(a?: Operand, b?: Operand): this {
    return this.bin(Op.i32Or, a, b);
  }
  i32Shl(a?: Operand, b?: Operand): this {
    return this.bin(Op.i32Shl, a, b);
  }
  i32ShrU(a?: Operand, b?: Operand): this {
    return this.bin(Op.i32ShrU, a, b);
  }
  i32Eq(a?: Operand, b?: Operand): this {
    return this.bin(Op.i32Eq, a, b);
  }
  i32Ne(a?: Operand, b?: Operand): this {
    return this.bin(Op.i32Ne, a, b);
  }
  i32LtS(a?: Operand, b?: Operand): this {
    return this.bin(Op.i32LtS, a, b);
  }
  i32LtU(a?: Operand, b?: Operand): this {
    return this.bin(Op.i32LtU, a, b);
  }
  i32GtS(a?: Operand, b?: Operand): this {
    return this.bin(Op.i32GtS, a, b);
  }
  i32LeS(a?: Operand, b?: Operand): this {
    return this.bin(Op.i32LeS, a, b);
  }
  i32GeS(a?: Operand, b?: Operand): this {
    return this.bin(Op.i32GeS, a, b);
  }
  i32GeU(a?: Operand, b?: Operand): this {
    return this.bin(Op.i32GeU, a, b);
  }
  i32Eqz(a?: Operand): this {
    return this.bin(Op.i32Eqz, a);
  }
  /** min(a, b) for signed i32, via `select` (no branch). */
  i32MinS(a: Operand, b: Operand): this {
    this.pushAll([a, b, a, b]);
    this.bytes.push(Op.i32LtS, Op.select);
    return this;
  }
  select(whenTrue?: Operand, whenFalse?: Operand, cond?: Operand): this {
    this.pushAll([whenTrue, whenFalse, cond]);
    this.bytes.push(Op.select);
    return this;
  }

  // ---- scalar f32 ---------------------------------------------------------------------------

  f32Add(a?: Operand, b?: Operand): this {
    return this.bin(Op.f32Add, a, b);
  }
  f32Mul(a?: Operand, b?: Operand): this {
    return this.bin(Op.f32Mul, a, b);
  }
  f32Max(a?: Operand, b?: Operand): this {
    return this.bin(Op.f32Max, a, b);
  }
  f32Sub(a?: Operand, b?: Operand): this {
    return this.bin(Op.f32Sub, a, b);
  }
  f32Gt(a?: Operand, b?: Operand): this {
    return this.bin(Op.f32Gt, a, b);
  }
  f32Lt(a?: Operand, b?: Operand): this {
    return this.bin(Op.f32Lt, a, b);
  }
  f32Eq(a?: Operand, b?: Operand): this {
    return this.bin(Op.f32Eq, a, b);
  }
  f32Ne(a?: Operand, b?: Operand): this {
    return this.bin(Op.f32Ne, a, b);
  }
  /** Scalar comparison (eq, ne, lt, gt, le, ge) giving an i32 0 or 1. */
  f32Compare(op: "eq" | "ne" | "lt" | "gt" | "le" | "ge", a?: Operand, b?: Operand): this {
    const code = { eq: Op.f32Eq, ne: Op.f32Ne, lt: Op.f32Lt, gt: Op.f32Gt, le: Op.f32Le, ge: Op.f32Ge }[op];
    return this.bin(code, a, b);
  }
  i32Store8(offset = 0, addr?: Operand, value?: Operand): this {
    this.pushAll([addr, value]);
    this.bytes.push(Op.i32Store8);
    this.memarg(0, offset);
    return this;
  }
  i32Load8U(offset = 0, addr?: Operand): this {
    this.push(addr);
    this.bytes.push(Op.i32Load8U);
    this.memarg(0, offset);
    return this;
  }
  f32Floor(a?: Operand): this {
    return this.bin(Op.f32Floor, a);
  }
  f32Ceil(a?: Operand): this {
    return this.bin(Op.f32Ceil, a);
  }
  /** Round to nearest, halves to even (IEEE roundTiesToEven). */
  f32Nearest(a?: Operand): this {
    return this.bin(Op.f32Nearest, a);
  }
  f32ConvertI32S(a?: Operand): this {
    return this.bin(Op.f32ConvertI32S, a);
  }
  f32Div(a?: Operand, b?: Operand): this {
    return this.bin(Op.f32Div, a, b);
  }
  f32Min(a?: Operand, b?: Operand): this {
    return this.bin(Op.f32Min, a, b);
  }
  f32Sqrt(a?: Operand): this {
    return this.bin(Op.f32Sqrt, a);
  }
  f32Neg(a?: Operand): this {
    return this.bin(Op.f32Neg, a);
  }
  f32Abs(a?: Operand): this {
    return this.bin(Op.f32Abs, a);
  }

  // ---- scalar f64 (accumulators of long float32 sums) ----------------------------------------

  f64Const(v: number): this {
    this.bytes.push(Op.f64Const);
    f64Scratch.setFloat64(0, v, true);
    for (let i = 0; i < 8; i++) this.bytes.push(f64Scratch.getUint8(i));
    return this;
  }
  f64Add(a?: Operand, b?: Operand): this {
    return this.bin(Op.f64Add, a, b);
  }
  f64PromoteF32(a?: Operand): this {
    return this.bin(Op.f64PromoteF32, a);
  }
  f32DemoteF64(a?: Operand): this {
    return this.bin(Op.f32DemoteF64, a);
  }

  // ---- memory -------------------------------------------------------------------------------

  i32Load(offset = 0, addr?: Operand): this {
    this.push(addr);
    this.bytes.push(Op.i32Load);
    this.memarg(2, offset);
    return this;
  }
  i32Store(offset = 0, addr?: Operand, value?: Operand): this {
    this.pushAll([addr, value]);
    this.bytes.push(Op.i32Store);
    this.memarg(2, offset);
    return this;
  }
  i64Load(offset = 0, addr?: Operand): this {
    this.push(addr);
    this.bytes.push(Op.i64Load);
    this.memarg(3, offset);
    return this;
  }
  i64Store(offset = 0, addr?: Operand, value?: Operand): this {
    this.pushAll([addr, value]);
    this.bytes.push(Op.i64Store);
    this.memarg(3, offset);
    return this;
  }
  f32Load(offset = 0, addr?: Operand): this {
    this.push(addr);
    this.bytes.push(Op.f32Load);
    this.memarg(2, offset);
    return this;
  }
  f32Store(offset = 0, addr?: Operand, value?: Operand): this {
    this.pushAll([addr, value]);
    this.bytes.push(Op.f32Store);
    this.memarg(2, offset);
    return this;
  }
  memoryFill(dst?: Operand, byte?: Operand, len?: Operand): this {
    this.pushAll([dst, byte, len]);
    this.bytes.push(0xfc);
    writeUleb(this.bytes, OpFC.memoryFill);
    this.bytes.push(0);
    return this;
  }
  memoryCopy(dst?: Operand, src?: Operand, len?: Operand): this {
    this.pushAll([dst, src, len]);
    this.bytes.push(0xfc);
    writeUleb(this.bytes, OpFC.memoryCopy);
    this.bytes.push(0, 0);
    return this;
  }

  // ---- SIMD ---------------------------------------------------------------------------------

  v128Load(offset = 0, addr?: Operand): this {
    this.push(addr);
    this.simd(OpSimd.v128Load);
    this.memarg(4, offset);
    return this;
  }
  v128Load32Splat(offset = 0, addr?: Operand): this {
    this.push(addr);
    this.simd(OpSimd.v128Load32Splat);
    this.memarg(2, offset);
    return this;
  }
  v128Store(offset = 0, addr?: Operand, value?: Operand): this {
    this.pushAll([addr, value]);
    this.simd(OpSimd.v128Store);
    this.memarg(4, offset);
    return this;
  }
  /** A v128 of zero bits (all lanes +0.0). */
  v128Zero(): this {
    this.simd(OpSimd.v128Const);
    for (let i = 0; i < 16; i++) this.bytes.push(0);
    return this;
  }
  /** Lanes 0–15 pick bytes of a, 16–31 bytes of b. */
  i8x16Shuffle(lanes: readonly number[], a?: Operand, b?: Operand): this {
    this.pushAll([a, b]);
    this.simd(OpSimd.i8x16Shuffle);
    for (const l of lanes) this.bytes.push(l);
    return this;
  }
  /** Copies float lane `lane` of v to all four lanes (one pshufd on x64). */
  f32x4BroadcastLane(lane: number, v: Operand): this {
    const lanes: number[] = [];
    for (let i = 0; i < 4; i++) {
      for (let b = 0; b < 4; b++) lanes.push(lane * 4 + b);
    }
    return this.i8x16Shuffle(lanes, v, v);
  }
  /** Picks float lanes: 0–3 from a, 4–7 from b. */
  f32x4Shuffle(
    lanes: readonly [number, number, number, number],
    a?: Operand,
    b?: Operand,
  ): this {
    const bytes: number[] = [];
    for (const l of lanes) for (let i = 0; i < 4; i++) bytes.push(l * 4 + i);
    return this.i8x16Shuffle(bytes, a, b);
  }
  f32x4Splat(value?: Operand): this {
    this.push(value);
    return this.simd(OpSimd.f32x4Splat);
  }
  f32x4Add(a?: Operand, b?: Operand): this {
    this.pushAll([a, b]);
    return this.simd(OpSimd.f32x4Add);
  }
  f32x4Mul(a?: Operand, b?: Operand): this {
    this.pushAll([a, b]);
    return this.simd(OpSimd.f32x4Mul);
  }
  f32x4Sub(a?: Operand, b?: Operand): this {
    this.pushAll([a, b]);
    return this.simd(OpSimd.f32x4Sub);
  }
  f32x4Max(a?: Operand, b?: Operand): this {
    this.pushAll([a, b]);
    return this.simd(OpSimd.f32x4Max);
  }
  /** Pseudo-maximum, `a < b ? b : a` per lane (one maxps on x86; a NaN in b leaves a). */
  f32x4Pmax(a?: Operand, b?: Operand): this {
    this.pushAll([a, b]);
    return this.simd(OpSimd.f32x4Pmax);
  }
  /** Pseudo-minimum, `b < a ? b : a` per lane (one minps on x86; a NaN in b leaves a). */
  f32x4Pmin(a?: Operand, b?: Operand): this {
    this.pushAll([a, b]);
    return this.simd(OpSimd.f32x4Pmin);
  }
  /** 1 (i32) when any bit of v is set, else 0. */
  v128AnyTrue(v?: Operand): this {
    this.push(v);
    return this.simd(OpSimd.v128AnyTrue);
  }
  f32x4Div(a?: Operand, b?: Operand): this {
    this.pushAll([a, b]);
    return this.simd(OpSimd.f32x4Div);
  }
  f32x4Min(a?: Operand, b?: Operand): this {
    this.pushAll([a, b]);
    return this.simd(OpSimd.f32x4Min);
  }
  f32x4Sqrt(a?: Operand): this {
    this.push(a);
    return this.simd(OpSimd.f32x4Sqrt);
  }
  f32x4Neg(a?: Operand): this {
    this.push(a);
    return this.simd(OpSimd.f32x4Neg);
  }
  f32x4Abs(a?: Operand): this {
    this.push(a);
    return this.simd(OpSimd.f32x4Abs);
  }
  /** Float lane `lane` of v as an f32. */
  f32x4ExtractLane(lane: number, v?: Operand): this {
    this.push(v);
    this.simd(OpSimd.f32x4ExtractLane);
    this.bytes.push(lane);
    return this;
  }
  /** Lane-wise comparison (eq, ne, lt, gt, le, ge): all-ones lanes where true, zero where false. */
  f32x4Compare(op: "eq" | "ne" | "lt" | "gt" | "le" | "ge", a?: Operand, b?: Operand): this {
    this.pushAll([a, b]);
    const code = { eq: OpSimd.f32x4Eq, ne: OpSimd.f32x4Ne, lt: OpSimd.f32x4Lt, gt: OpSimd.f32x4Gt, le: OpSimd.f32x4Le, ge: OpSimd.f32x4Ge }[op];
    return this.simd(code);
  }
  f32x4Floor(a?: Operand): this {
    this.push(a);
    return this.simd(OpSimd.f32x4Floor);
  }
  f32x4Ceil(a?: Operand): this {
    this.push(a);
    return this.simd(OpSimd.f32x4Ceil);
  }
  /** Round to nearest, halves to even, per lane. */
  f32x4Nearest(a?: Operand): this {
    this.push(a);
    return this.simd(OpSimd.f32x4Nearest);
  }
  /** Sixteen bytes from two i16x8, each saturated to a signed byte. */
  i8x16NarrowI16x8S(a?: Operand, b?: Operand): this {
    this.pushAll([a, b]);
    return this.simd(OpSimd.i8x16NarrowI16x8S);
  }
  /** Eight 16-bit lanes from two i32x4, each saturated to a signed 16-bit value. */
  i16x8NarrowI32x4S(a?: Operand, b?: Operand): this {
    this.pushAll([a, b]);
    return this.simd(OpSimd.i16x8NarrowI32x4S);
  }
  i8x16Splat(value?: Operand): this {
    this.push(value);
    return this.simd(OpSimd.i8x16Splat);
  }
  /** Eight bytes zero-extended to eight 16-bit lanes. */
  v128Load8x8U(offset = 0, addr?: Operand): this {
    this.push(addr);
    this.simd(OpSimd.v128Load8x8U);
    this.memarg(3, offset);
    return this;
  }
  i32x4ExtendLowI16x8U(a?: Operand): this {
    this.push(a);
    return this.simd(OpSimd.i32x4ExtendLowI16x8U);
  }
  i32x4ExtendHighI16x8U(a?: Operand): this {
    this.push(a);
    return this.simd(OpSimd.i32x4ExtendHighI16x8U);
  }
  f32x4ConvertI32x4S(a?: Operand): this {
    this.push(a);
    return this.simd(OpSimd.f32x4ConvertI32x4S);
  }
  f32x4Gt(a?: Operand, b?: Operand): this {
    this.pushAll([a, b]);
    return this.simd(OpSimd.f32x4Gt);
  }
  v128Or(a?: Operand, b?: Operand): this {
    this.pushAll([a, b]);
    return this.simd(OpSimd.v128Or);
  }
  /** Bits of a where mask is set, of b elsewhere. */
  v128Bitselect(a?: Operand, b?: Operand, mask?: Operand): this {
    this.pushAll([a, b, mask]);
    return this.simd(OpSimd.v128Bitselect);
  }
  i32x4Splat(value?: Operand): this {
    this.push(value);
    return this.simd(OpSimd.i32x4Splat);
  }
  /** v with 32-bit integer lane `lane` replaced by an i32. */
  i32x4ReplaceLane(lane: number, v?: Operand, value?: Operand): this {
    this.pushAll([v, value]);
    this.simd(OpSimd.i32x4ReplaceLane);
    this.bytes.push(lane);
    return this;
  }
  i32x4Sub(a?: Operand, b?: Operand): this {
    this.pushAll([a, b]);
    return this.simd(OpSimd.i32x4Sub);
  }
  /** Each lane shifted left by the i32 `by`. */
  i32x4Shl(a?: Operand, by?: Operand): this {
    this.pushAll([a, by]);
    return this.simd(OpSimd.i32x4Shl);
  }
  /** Each lane shifted right, zero-filling, by the i32 `by`. */
  i32x4ShrU(a?: Operand, by?: Operand): this {
    this.pushAll([a, by]);
    return this.simd(OpSimd.i32x4ShrU);
  }
  /** Float lanes to int32, saturating (NaN gives 0, never a trap). */
  i32x4TruncSatF32x4S(a?: Operand): this {
    this.push(a);
    return this.simd(OpSimd.i32x4TruncSatF32x4S);
  }
  i32x4Add(a?: Operand, b?: Operand): this {
    this.pushAll([a, b]);
    return this.simd(OpSimd.i32x4Add);
  }
  /** v with float lane `lane` replaced by an f32. */
  f32x4ReplaceLane(lane: number, v?: Operand, value?: Operand): this {
    this.pushAll([v, value]);
    this.simd(OpSimd.f32x4ReplaceLane);
    this.bytes.push(lane);
    return this;
  }
  v128And(a?: Operand, b?: Operand): this {
    this.pushAll([a, b]);
    return this.simd(OpSimd.v128And);
  }
  /** a·b + c with one rounding or two, as the hardware prefers (relaxed SIMD). */
  f32x4RelaxedMadd(a?: Operand, b?: Operand, c?: Operand): this {
    this.pushAll([a, b, c]);
    return this.simd(OpSimd.f32x4RelaxedMadd);
  }
  /**
   * acc + a·b, emitted as relaxed_madd when `relaxed`, else as mul then add. The one switch that
   * separates the two code paths of every kernel.
   */
  f32x4MulAdd(relaxed: boolean, a: Operand, b: Operand, acc: Operand): this {
    if (relaxed) return this.f32x4RelaxedMadd(a, b, acc);
    this.push(acc);
    this.f32x4Mul(a, b);
    return this.simd(OpSimd.f32x4Add);
  }

  // ---- control flow -------------------------------------------------------------------------

  private depthOf(label: Label): number {
    const at = this.openLabels.lastIndexOf(label.id);
    if (at < 0) {
      throw new InternalError(
        `wasm emitter: branch to a label that is not open in ${this.name}`,
      );
    }
    return this.openLabels.length - 1 - at;
  }

  private structured(op: number, body: (label: Label) => void): this {
    const label = { id: this.nextLabel++ };
    this.bytes.push(op, 0x40);
    this.openLabels.push(label.id);
    body(label);
    this.openLabels.pop();
    this.bytes.push(Op.end);
    return this;
  }

  block(body: (exit: Label) => void): this {
    return this.structured(Op.block, body);
  }

  loop(body: (top: Label) => void): this {
    return this.structured(Op.loop, body);
  }

  if(
    cond: Operand | undefined,
    then: () => void,
    otherwise?: () => void,
  ): this {
    this.push(cond);
    const label = { id: this.nextLabel++ };
    this.bytes.push(Op.if, 0x40);
    this.openLabels.push(label.id);
    then();
    if (otherwise) {
      this.bytes.push(Op.else);
      otherwise();
    }
    this.openLabels.pop();
    this.bytes.push(Op.end);
    return this;
  }

  br(label: Label): this {
    this.bytes.push(Op.br);
    writeUleb(this.bytes, this.depthOf(label));
    return this;
  }

  brIf(label: Label, cond?: Operand): this {
    this.push(cond);
    this.bytes.push(Op.brIf);
    writeUleb(this.bytes, this.depthOf(label));
    return this;
  }

  return(): this {
    this.bytes.push(Op.return);
    return this;
  }

  call(fn: FunctionBuilder, ...args: Operand[]): this {
    this.pushAll(args);
    this.bytes.push(Op.call);
    writeUleb(this.bytes, fn.index);
    return this;
  }

  /** for (i = start; i < end; i += step) body — signed compare, test at the top so zero trips are safe. */
  forRange(
    i: Local,
    start: Operand,
    end: Operand,
    step: Operand,
    body: () => void,
  ): this {
    this.set(i, start);
    return this.block((exit) => {
      this.loop((top) => {
        this.brIf(exit, () => this.i32GeS(i, end));
        body();
        this.inc(i, step);
        this.br(top);
      });
    });
  }

  /** do { body } while (--counter !== 0): the tightest loop shape, for trip counts known to be ≥ 1. */
  doWhileDecrement(counter: Local, body: () => void): this {
    return this.loop((top) => {
      body();
      this.brIf(top, () => this.tee(counter, () => this.i32Sub(counter, 1)));
    });
  }
}

/** Memory import options; `shared` needs a maximum and is what lets workers see the same bytes. */
export interface MemoryImport {
  module: string;
  field: string;
  initialPages: number;
  maximumPages: number;
  shared: boolean;
}

/** Collects functions and one imported memory, and encodes the module. */
export class ModuleBuilder {
  private readonly functions: FunctionBuilder[] = [];
  private memory: MemoryImport | undefined;

  importMemory(memory: MemoryImport): this {
    this.memory = memory;
    return this;
  }

  func(
    name: string,
    params: readonly ValType[],
    results: readonly ValType[] = [],
    exported = true,
  ): FunctionBuilder {
    const fn = new FunctionBuilder(
      this.functions.length,
      name,
      params,
      results,
      exported,
    );
    this.functions.push(fn);
    return fn;
  }

  build(): Uint8Array<ArrayBuffer> {
    const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    const section = (id: number, content: number[]) => {
      out.push(id);
      writeUleb(out, content.length);
      for (const b of content) out.push(b);
    };

    const typeKeys = new Map<string, number>();
    const types: number[][] = [];
    const typeOf = this.functions.map((fn) => {
      const key = `${fn.paramTypes.join(",")}>${fn.resultTypes.join(",")}`;
      let index = typeKeys.get(key);
      if (index === undefined) {
        index = types.length;
        typeKeys.set(key, index);
        const t: number[] = [0x60];
        writeUleb(t, fn.paramTypes.length);
        t.push(...fn.paramTypes);
        writeUleb(t, fn.resultTypes.length);
        t.push(...fn.resultTypes);
        types.push(t);
      }
      return index;
    });
    const typeSection: number[] = [];
    writeVector(typeSection, types);
    section(Section.type, typeSection);

    if (this.memory) {
      const m = this.memory;
      const imp: number[] = [];
      writeString(imp, m.module);
      writeString(imp, m.field);
      imp.push(0x02, m.shared ? 0x03 : 0x01);
      writeUleb(imp, m.initialPages);
      writeUleb(imp, m.maximumPages);
      const importSection: number[] = [];
      writeVector(importSection, [imp]);
      section(Section.import, importSection);
    }

    const funcSection: number[] = [];
    writeVector(
      funcSection,
      typeOf.map((t) => {
        const b: number[] = [];
        writeUleb(b, t);
        return b;
      }),
    );
    section(Section.function, funcSection);

    const exports = this.functions.filter((fn) => fn.exported).map((fn) => {
      const e: number[] = [];
      writeString(e, fn.name);
      e.push(0x00);
      writeUleb(e, fn.index);
      return e;
    });
    const exportSection: number[] = [];
    writeVector(exportSection, exports);
    section(Section.export, exportSection);

    const codeSection: number[] = [];
    writeVector(codeSection, this.functions.map((fn) => fn.encodeBody()));
    section(Section.code, codeSection);

    // The "name" custom section: profilers (Deno/Node --cpu-prof, browser devtools) then show
    // gemmMicroKernel instead of wasm-function[4].
    const names: number[] = [];
    writeString(names, "name");
    const functionNames: number[] = [];
    writeVector(
      functionNames,
      this.functions.map((fn) => {
        const entry: number[] = [];
        writeUleb(entry, fn.index);
        writeString(entry, fn.name);
        return entry;
      }),
    );
    names.push(1);
    writeUleb(names, functionNames.length);
    for (const b of functionNames) names.push(b);
    section(0, names);

    return new Uint8Array(out);
  }
}

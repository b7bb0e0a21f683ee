/**
 * Bad arguments throw the typed errors, with messages naming the operation and the shapes involved. The checks
 * run on the device under test because its arrays must reach the same validation as the CPU's.
 */
import { DeviceError, DisposedError, DTypeError, ShapeError, ValueError } from "../../errors.ts";
import * as conv from "../../ops/conv.ts";
import * as create from "../../ops/creation.ts";
import * as ew from "../../ops/elementwise.ts";
import * as idx from "../../ops/indexing.ts";
import { concat, stack } from "../../ops/join.ts";
import { matmul } from "../../ops/matmul.ts";
import * as red from "../../ops/reduce.ts";
import { softmax } from "../../ops/softmax.ts";
import { tidy } from "../../scope.ts";
import { expectRejects, expectThrows } from "../compare.ts";
import { type CaseContext, type ConformanceCase, simpleCase } from "../context.ts";

export function errorCases(ctx: CaseContext): ConformanceCase[] {
  const o = { device: ctx.device };
  const f32 = (shape: number[]) => create.zeros(shape, o);
  const i32 = (shape: number[]) => create.zeros(shape, { ...o, dtype: "int32" });
  const bool = (shape: number[]) => create.zeros(shape, { ...o, dtype: "bool" });
  // Every check builds its arrays inside tidy, so the arrays of a throwing call are freed too.
  const throws = (label: string, fn: () => unknown, cls: typeof ShapeError, mentions: string[]) =>
    tidy(() => expectThrows(label, fn, cls, mentions));

  const cases: ConformanceCase[] = [
    simpleCase(ctx, "errors: ShapeError names the op and the shapes", () => {
      throws("add of non-broadcastable shapes", () => ew.add(f32([2, 3]), f32([4])), ShapeError, ["add", "[2, 3]", "[4]"]);
      throws("where of non-broadcastable shapes", () => ew.where(bool([2]), f32([3]), 0), ShapeError, ["where", "[2]", "[3]"]);
      throws("matmul inner sizes", () => matmul(f32([2, 3]), f32([4, 5])), ShapeError, ["matmul", "[2, 3]", "[4, 5]"]);
      throws("matmul batch dims", () => matmul(f32([2, 2, 3]), f32([3, 3, 1])), ShapeError, ["matmul"]);
      throws("matmul of a 0-d array", () => matmul(f32([]), f32([2])), ShapeError, ["matmul", "[]"]);
      throws("reshape to another size", () => f32([2, 3]).reshape([4]), ShapeError, ["reshape", "[2, 3]", "[4]"]);
      throws("expand a non-1 dim", () => f32([2]).expand([3]), ShapeError, ["expand", "[2]", "[3]"]);
      throws("conv2d of a 3-D input", () => conv.conv2d(f32([1, 3, 3]), f32([1, 1, 1, 1])), ShapeError, ["conv2d", "[1, 3, 3]"]);
      throws("conv2d channel mismatch", () => conv.conv2d(f32([1, 3, 5, 5]), f32([2, 2, 3, 3])), ShapeError, ["conv2d", "3 channels", "[2, 2, 3, 3]"]);
      throws("conv2d window larger than the input", () => conv.conv2d(f32([1, 1, 2, 2]), f32([1, 1, 3, 3])), ShapeError, ["conv2d", "size 3"]);
      throws("conv2d bias shape", () => conv.conv2d(f32([1, 1, 3, 3]), f32([2, 1, 1, 1]), f32([3])), ShapeError, ["conv2d", "bias", "[3]"]);
      throws("conv2dBackwardInput gradient shape", () => conv.conv2dBackwardInput(f32([1, 1, 2, 2]), f32([1, 1, 2, 2]), [1, 1, 4, 4]), ShapeError, ["conv2dBackwardInput", "[1, 1, 3, 3]", "[1, 1, 2, 2]"]);
      throws("conv2dBackwardInput of a 3-D input shape", () => conv.conv2dBackwardInput(f32([1, 1, 2, 2]), f32([1, 1, 2, 2]), [1, 3, 3]), ShapeError, ["conv2dBackwardInput", "[1, 3, 3]"]);
      throws("maxPool2dBackward gradient shape", () => {
        const { indices } = conv.maxPool2d(f32([1, 1, 4, 4]), 2);
        return conv.maxPool2dBackward(f32([1, 1, 3, 3]), indices, [1, 1, 4, 4], 2);
      }, ShapeError, ["maxPool2dBackward", "[1, 1, 2, 2]", "[1, 1, 3, 3]"]);
      throws("concat of different shapes", () => concat([f32([2, 3]), f32([2, 4])], 0), ShapeError, ["concat", "[2, 3]", "[2, 4]"]);
      throws("concat of 0-d arrays", () => concat([f32([]), f32([])]), ShapeError, ["concat", "[]"]);
      throws("stack of different shapes", () => stack([f32([2]), f32([3])]), ShapeError, ["stack", "[2]", "[3]"]);
      throws("gather index shape", () => idx.gather(f32([2, 3]), 1, i32([3, 3])), ShapeError, ["gather", "[3, 3]", "[2, 3]"]);
      throws("indexSelect of a 2-D index", () => idx.indexSelect(f32([2, 3]), 0, i32([1, 1])), ShapeError, ["indexSelect", "[1, 1]"]);
      throws("max over an empty dimension", () => red.max(f32([2, 0]), 1), ShapeError, ["max", "[2, 0]"]);
      throws("argmax over an empty dimension", () => red.argmax(f32([2, 0]), 1), ShapeError, ["argmax", "[2, 0]"]);
      throws("tensor from a ragged array", () => create.tensor([[1, 2], [3]], o), ShapeError, ["tensor", "ragged"]);
      throws("tensor with a shape of another size", () => create.tensor([1, 2, 3], { ...o, shape: [2, 2] }), ShapeError, ["tensor", "[2, 2]"]);
    }),
    simpleCase(ctx, "errors: ShapeError from item() of a multi-element array", async () => {
      const a = f32([2]);
      try {
        await expectRejects("item of two elements", () => a.item(), ShapeError, ["item", "[2]"]);
      } finally {
        a.dispose();
      }
    }),
    simpleCase(ctx, "errors: DTypeError names the op and the dtype", () => {
      throws("matmul of bool arrays", () => matmul(bool([2, 2]), bool([2, 2])), DTypeError, ["matmul", "bool"]);
      throws("where with a float condition", () => ew.where(f32([2]), 1, 0), DTypeError, ["where", "float32", "[2]"]);
      throws("gather with a float index", () => idx.gather(f32([2]), 0, f32([2])), DTypeError, ["gather", "float32"]);
      throws("indexSelect with a bool index", () => idx.indexSelect(f32([2]), 0, bool([2])), DTypeError, ["indexSelect", "bool"]);
      throws("oneHot of float labels", () => idx.oneHot(f32([2]), 3), DTypeError, ["oneHot", "float32"]);
      throws("conv2d of int32 arrays", () => conv.conv2d(i32([1, 1, 3, 3]), i32([1, 1, 1, 1])), DTypeError, ["conv2d", "int32"]);
      throws("maxPool2d of int32 input", () => conv.maxPool2d(i32([1, 1, 2, 2]), 2), DTypeError, ["maxPool2d", "int32"]);
      throws("maxPool2dBackward with float indices", () => conv.maxPool2dBackward(f32([1, 1, 1, 1]), f32([1, 1, 1, 1]), [1, 1, 2, 2], 2), DTypeError, ["maxPool2dBackward", "float32"]);
      throws("softmax of int32", () => softmax(i32([2])), DTypeError, ["softmax", "int32"]);
      throws("neg of bool", () => ew.neg(bool([2])), DTypeError, ["neg", "bool"]);
      throws("sub of two bool arrays", () => ew.sub(bool([2]), bool([2])), DTypeError, ["sub", "bool"]);
      throws("rand of int32", () => create.rand([2], { ...o, dtype: "int32" }), DTypeError, ["rand", "int32"]);
      throws("tensor of strings", () => create.tensor(["a"] as unknown as number[], o), DTypeError, ["tensor", "string"]);
      if (ctx.floatDtypes.includes("float64")) {
        throws("conv2d of mixed float widths", () => conv.conv2d(f32([1, 1, 3, 3]), create.zeros([1, 1, 1, 1], { ...o, dtype: "float64" })), DTypeError, ["conv2d", "float32", "float64"]);
      }
    }),
    simpleCase(ctx, "errors: ValueError for axes, sizes and options out of range", () => {
      throws("sum over axis 2 of a 2-D array", () => red.sum(f32([2, 3]), 2), ValueError, ["sum", "axis 2", "rank 2"]);
      throws("sum over a repeated axis", () => red.sum(f32([2, 3]), [0, -2]), ValueError, ["sum", "repeated"]);
      throws("argmax over axis -3 of a 2-D array", () => red.argmax(f32([2, 3]), -3), ValueError, ["argmax", "axis -3"]);
      throws("softmax over axis 1 of a 1-D array", () => softmax(f32([3]), 1), ValueError, ["softmax", "axis 1"]);
      throws("permute with a repeated dim", () => f32([2, 3]).permute([0, 0]), ValueError, ["permute", "[0, 0]"]);
      throws("transpose out of range", () => f32([2, 3]).transpose(0, 2), ValueError, ["transpose", "axis 2"]);
      throws("narrow past the end", () => f32([4]).narrow(0, 2, 3), ValueError, ["narrow", "size 4"]);
      throws("select out of range", () => f32([4]).select(0, 4), ValueError, ["select", "index 4"]);
      throws("slice with step 0", () => f32([4]).slice(0, 0, 4, 0), ValueError, ["slice", "step"]);
      throws("reshape with two -1", () => f32([4]).reshape([-1, -1]), ValueError, ["reshape", "[-1, -1]"]);
      throws("expand to -1 in a new dimension", () => f32([2]).expand([-1, 2]), ValueError, ["expand", "-1"]);
      throws("conv2d with stride 0", () => conv.conv2d(f32([1, 1, 3, 3]), f32([1, 1, 1, 1]), null, { stride: 0 }), ValueError, ["conv2d", "stride"]);
      throws("conv2d with 0 groups", () => conv.conv2d(f32([1, 1, 3, 3]), f32([1, 1, 1, 1]), null, { groups: 0 }), ValueError, ["conv2d", "groups"]);
      throws("maxPool2d padding over half the kernel", () => conv.maxPool2d(f32([1, 1, 4, 4]), 2, { padding: 2 }), ValueError, ["maxPool2d", "padding"]);
      throws("avgPool2d with dilation", () => conv.avgPool2d(f32([1, 1, 4, 4]), 2, { dilation: 2 }), ValueError, ["avgPool2d", "dilation"]);
      throws("clamp with min > max", () => ew.clamp(f32([2]), 3, 1), ValueError, ["clamp", "3", "1"]);
      throws("oneHot with 0 classes", () => idx.oneHot(i32([2]), 0), ValueError, ["oneHot", "numClasses"]);
      throws("full of a negative size", () => create.full([2, -1], 0, o), ValueError, ["full", "[2, -1]"]);
      throws("arange with step 0", () => create.arange(0, 3, 0, o), ValueError, ["arange", "step"]);
      throws("randint with low >= high", () => create.randint(3, 3, [2], o), ValueError, ["randint"]);
      throws("concat of nothing", () => concat([]), ValueError, ["concat"]);
    }),
    simpleCase(ctx, "errors: DisposedError when a disposed array is used", async () => {
      const a = create.ones([2, 3], o);
      a.dispose();
      throws("add", () => ew.add(a, 1), DisposedError, ["add", "[2, 3]"]);
      throws("matmul", () => matmul(a, a), DisposedError, ["matmul", "[2, 3]"]);
      throws("sum", () => red.sum(a), DisposedError, ["sum", "[2, 3]"]);
      throws("reshape", () => a.reshape([6]), DisposedError, ["reshape", "[2, 3]"]);
      throws("transpose", () => a.transpose(), DisposedError, ["[2, 3]"]);
      throws("cast", () => a.cast("int32"), DisposedError, ["cast", "[2, 3]"]);
      const image = create.ones([1, 1, 3, 3], o);
      image.dispose();
      throws("conv2d", () => conv.conv2d(image, create.ones([1, 1, 1, 1], o)), DisposedError, ["conv2d", "[1, 1, 3, 3]"]);
      await expectRejects("data", () => a.data(), DisposedError, ["data", "[2, 3]"]);
    }),
    simpleCase(ctx, "errors: DeviceError for unknown devices and mixed devices", () => {
      throws("tensor on an unknown device", () => create.tensor([1], { device: "no-such-device" }), DeviceError, ["no-such-device"]);
      if (ctx.device !== "cpu") {
        throws("add of arrays on two devices", () => ew.add(f32([2]), create.zeros([2])), DeviceError, ["add", ctx.device, "cpu"]);
        throws("matmul of arrays on two devices", () => matmul(f32([2, 2]), create.zeros([2, 2])), DeviceError, ["matmul", ctx.device, "cpu"]);
      }
    }),
  ];
  return cases;
}

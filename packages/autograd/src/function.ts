import { isGradEnabled, noGrad } from "./grad_mode.ts";
import { GraphError } from "./engine.ts";
import { needsGraph, recordMany } from "./record.ts";
import { Tensor } from "./tensor.ts";
import { fmtShapeOf } from "./util.ts";

/**
 * What `forward` hands to `backward`: saved tensors, `needsInputGrad`, and any other values set on it
 * (e.g. `ctx.eps = 1e-5`).
 */
export class FunctionCtx {
  /** One flag per forward argument: whether backward must compute that gradient. */
  readonly needsInputGrad: readonly boolean[];
  #saved: readonly (Tensor | null)[] = [];
  /** Anything else `forward` wants to hand to `backward` (sizes, options, constants). */
  [key: string]: unknown;

  /** Made by `Function.apply`; not constructed by users. */
  constructor(needsInputGrad: readonly boolean[]) {
    this.needsInputGrad = needsInputGrad;
  }

  /** Keeps tensors for `backward` (like PyTorch's `ctx.save_for_backward`). */
  saveForBackward(...tensors: (Tensor | null)[]): void {
    this.#saved = tensors;
  }

  /** The tensors given to `saveForBackward`, in order. */
  get savedTensors(): readonly (Tensor | null)[] {
    return this.#saved;
  }
}

type ForwardArgs<F> = F extends (ctx: FunctionCtx, ...args: infer A) => unknown ? A : never;

/**
 * A differentiable operation with a hand-written backward, as PyTorch's `torch.autograd.Function`:
 *
 * ```ts
 * class MyReLU extends Function {
 *   static override forward(ctx: FunctionCtx, x: Tensor): Tensor {
 *     ctx.saveForBackward(x);
 *     return x.relu();
 *   }
 *   static override backward(ctx: FunctionCtx, grad: Tensor): [Tensor] {
 *     const [x] = ctx.savedTensors;
 *     return [grad.mul(x!.gt(0).cast(grad.dtype))];
 *   }
 * }
 * const y = MyReLU.apply(x);
 * ```
 *
 * `forward` runs without recording and returns one tensor or an array of tensors. `backward` gets one
 * gradient per output and returns one gradient (or null) per forward argument; non-tensor arguments get null.
 */
export class Function {
  /**
   * Computes the outputs from the arguments (tensors and any other values). Runs without recording; save what
   * `backward` needs on `ctx`.
   */
  static forward(_ctx: FunctionCtx, ..._args: never[]): Tensor | Tensor[] {
    throw new GraphError(`${this.name}.forward is not implemented: a Function subclass defines static forward(ctx, ...args)`);
  }

  /** Gets one gradient per output; returns one gradient (or null) per forward argument. */
  static backward(_ctx: FunctionCtx, ..._gradOutputs: Tensor[]): Tensor | null | readonly (Tensor | null | undefined)[] {
    throw new GraphError(`${this.name}.backward is not implemented: a Function subclass defines static backward(ctx, ...grads)`);
  }

  /** Runs `forward` on the arguments and records the call so `backward` runs during backpropagation. */
  static apply<F extends typeof Function>(this: F, ...args: ForwardArgs<F["forward"]>): ReturnType<F["forward"]> {
    const inputs = (args as unknown[]).map((a) => (a instanceof Tensor ? a : null));
    const ctx = new FunctionCtx(inputs.map((t) => !!t && t.requiresGrad && isGradEnabled()));
    // Called with the class as `this`, so static helpers (and the "not implemented" messages) can use it.
    const forward = this.forward as (ctx: FunctionCtx, ...a: unknown[]) => Tensor | Tensor[];
    const backward = this.backward as (ctx: FunctionCtx, ...g: Tensor[]) => unknown;
    const result = noGrad(() => forward.call(this, ctx, ...args));
    const outputs = Array.isArray(result) ? result : [result];
    for (const o of outputs) {
      if (!(o instanceof Tensor)) {
        throw new GraphError(`${this.name}.forward must return a Tensor or an array of Tensors, got ${describe(o)}`);
      }
    }
    if (!needsGraph(inputs)) return result as ReturnType<F["forward"]>;
    const tensors = recordMany(this.name, inputs, outputs.map((o) => o.value), (grads) => {
      const returned = backward.call(this, ctx, ...grads.map((g) => new Tensor(g)));
      const list = (Array.isArray(returned) ? returned : [returned]) as (Tensor | null | undefined)[];
      if (list.length !== inputs.length) {
        throw new GraphError(
          `${this.name}.backward returned ${list.length} gradient(s); it must return one per forward argument (${inputs.length})`,
        );
      }
      return list.map((g, i) => {
        if (g === null || g === undefined) return null;
        const input = inputs[i];
        if (!(g instanceof Tensor) || !input) return null;
        if (g.shape.length !== input.shape.length || g.shape.some((d, k) => d !== input.shape[k])) {
          throw new GraphError(
            `${this.name}.backward returned a gradient of shape ${fmtShapeOf(g.shape)} for argument ${i} of shape ${fmtShapeOf(input.shape)}`,
          );
        }
        return g.value;
      });
    });
    return (Array.isArray(result) ? tensors : tensors[0]) as ReturnType<F["forward"]>;
  }
}

/** What a value is, for a message: `number`, `null`, or an object's class name. */
function describe(value: unknown): string {
  if (value === null || typeof value !== "object") return value === null ? "null" : typeof value;
  return value.constructor?.name ?? "object";
}

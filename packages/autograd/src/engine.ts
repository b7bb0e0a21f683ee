import { BackpropError, isTemporary, keep, type NDArray, ones } from "@backprop/tensor";
import { zeros } from "@backprop/tensor";
import { noGrad } from "./grad_mode.ts";
import { isFromBackward, markFromBackward } from "./gradient_origin.ts";
import type { Node } from "./node.ts";
import { Tensor } from "./tensor.ts";
import { fmtShapeOf } from "./util.ts";

/**
 * Misuse of the graph: backward through a freed graph, on a tensor without a graph, with a wrong seed; a
 * `Function` that breaks its contract (no forward or backward, a forward that returns no tensors, a wrong number
 * of gradients); turning off gradient tracking of a non-leaf.
 */
export class GraphError extends BackpropError {}

/**
 * An attempt at a second-order gradient (the gradient of a gradient): `createGraph: true`, or backward from a
 * tensor that holds a gradient. Backward rules compute on raw arrays and record no graph, so there is nothing
 * to differentiate a second time.
 */
export class DoubleBackwardError extends GraphError {}

/** Settings of a backward pass (PyTorch's `retain_graph` and `create_graph`). */
export interface BackwardOptions {
  /** Keep the graph so that backward can run through it again (default false). */
  retainGraph?: boolean;
  /** Record the backward pass for a second-order gradient: not supported, throws a `DoubleBackwardError`. */
  createGraph?: boolean;
}

const SECOND_ORDER_UNSUPPORTED = "backward rules compute on raw arrays and record no graph, so second-order gradients " +
  "(the gradient of a gradient, PyTorch's create_graph=True) are not supported";

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Adds `g` into `t.grad` (a kept, contiguous array owned by the tensor). A first gradient the tensor may take over
 * (`adoptable`, see backward) becomes the grad itself rather than a copy: for a 100×3072 weight that copy was 1.2 MB
 * per step.
 */
function accumulateGrad(t: Tensor, g: NDArray, adoptable = false): void {
  if (!t.grad) {
    const own = adoptable && isTemporary(g) && g.isContiguous() && g.storage.refs === 1;
    t.grad = new Tensor(keep(own ? g : g.clone()));
    markFromBackward(t.grad);
    return;
  }
  const sum = keep(t.grad.value.add(g));
  t.grad.value.dispose();
  t.grad.value = sum;
}

function addInto(slot: (NDArray | null)[], i: number, g: NDArray): void {
  const prev = slot[i];
  slot[i] = prev ? prev.add(g) : g;
}

/** Nodes reachable from `root`, inputs before the nodes that consume them (iterative: no recursion limit). */
function topologicalOrder(root: Node): Node[] {
  const order: Node[] = [];
  const seen = new Set<Node>([root]);
  const stack: [Node, number][] = [[root, 0]];
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [node, i] = top;
    if (i < node.inputs.length) {
      top[1]++;
      const next = node.inputs[i]?.gradFn;
      if (next && !seen.has(next)) {
        seen.add(next);
        stack.push([next, 0]);
      }
    } else {
      order.push(node);
      stack.pop();
    }
  }
  return order;
}

export function backward(root: Tensor, gradient: Tensor | NDArray | undefined, options: BackwardOptions = {}): void {
  const { retainGraph = false, createGraph = false } = options;
  if (createGraph) {
    throw new DoubleBackwardError(`backward: expected createGraph false or absent, got true; ${SECOND_ORDER_UNSUPPORTED}`);
  }
  if (!root.requiresGrad && isFromBackward(root)) {
    throw new DoubleBackwardError(
      `backward: the tensor ${fmtShapeOf(root.shape)} holds a gradient (a .grad, or a result computed from one) and ` +
        `has no graph; ${SECOND_ORDER_UNSUPPORTED}`,
    );
  }
  if (!root.requiresGrad) {
    throw new GraphError(
      `backward: the tensor ${fmtShapeOf(root.shape)} does not require a gradient and has no graph ` +
        "(did the inputs set requiresGrad, and was the computation run outside noGrad?)",
    );
  }
  let seed: NDArray;
  if (gradient === undefined) {
    if (root.size !== 1) {
      throw new GraphError(
        `backward: a gradient is needed for a non-scalar tensor of shape ${fmtShapeOf(root.shape)} (pass one of that shape)`,
      );
    }
    seed = ones(root.shape, { dtype: root.dtype, device: root.device });
  } else {
    seed = gradient instanceof Tensor ? gradient.value : gradient;
    if (!sameShape(seed.shape, root.shape)) {
      throw new GraphError(`backward: the gradient has shape ${fmtShapeOf(seed.shape)}, the tensor ${fmtShapeOf(root.shape)}`);
    }
    if (seed.dtype !== root.dtype) seed = seed.cast(root.dtype);
  }
  noGrad(() => {
    const rootNode = root.gradFn;
    if (!rootNode) {
      accumulateGrad(root, seed);
      return;
    }
    if (root.retainsGrad) accumulateGrad(root, seed);
    const pending = new Map<Node, (NDArray | null)[]>();
    const first: (NDArray | null)[] = rootNode.outputShapes.map(() => null);
    first[root.outputIndex] = seed;
    pending.set(rootNode, first);
    const order = topologicalOrder(rootNode);
    for (let k = order.length - 1; k >= 0; k--) {
      const node = order[k]!;
      const grads = pending.get(node);
      if (!grads) continue;
      pending.delete(node);
      const fn = node.backward;
      if (!fn) {
        throw new GraphError(
          `backward: the graph through "${node.name}" was already freed by an earlier backward; ` +
            "pass { retainGraph: true } to the first backward call to backpropagate twice",
        );
      }
      const filled = grads.map((g, i) => g ?? zeros(node.outputShapes[i]!, { dtype: node.outputDtypes[i]!, device: seed.device }));
      const inputGrads = fn(filled);
      if (!retainGraph) node.backward = null;
      node.inputs.forEach((t, i) => {
        let g = inputGrads[i];
        if (!t || !t.requiresGrad || !g) return;
        // Only this input's slot holds a gradient the rule made for it alone (not passed through from the node's
        // own gradients, not returned for a second input): a leaf may take it over, since no later step reads it.
        const made = inputGrads.indexOf(g) === i && inputGrads.lastIndexOf(g) === i && !filled.includes(g);
        if (!sameShape(g.shape, t.shape)) {
          throw new GraphError(
            `backward: "${node.name}" produced a gradient of shape ${fmtShapeOf(g.shape)} for its input ${i} of shape ${fmtShapeOf(t.shape)}`,
          );
        }
        // Mixed-precision operations compute in the promoted dtype; a gradient has its input's dtype (as
        // PyTorch), so a float32 parameter never receives a float64 gradient.
        if (g.dtype !== t.dtype) g = g.cast(t.dtype);
        if (t.gradFn) {
          let slot = pending.get(t.gradFn);
          if (!slot) pending.set(t.gradFn, (slot = t.gradFn.outputShapes.map(() => null)));
          addInto(slot, t.outputIndex, g);
          if (t.retainsGrad) accumulateGrad(t, g);
        } else {
          accumulateGrad(t, g, made);
        }
      });
    }
  });
}

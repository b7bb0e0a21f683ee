import type { Tensor } from "@backprop/autograd";
import { ShapeError } from "@backprop/tensor";
import { fmtShape } from "../util.ts";

/** The custom batch norms take [batch, nNeurons] input only (the assignment's shape check). */
export function checkBatchNormInput(owner: string, x: Tensor, nNeurons: number): void {
  if (x.ndim !== 2 || x.shape[1] !== nNeurons) {
    throw new ShapeError(`${owner}(${nNeurons}): expected input [batch, ${nNeurons}], got ${fmtShape(x.shape)}`);
  }
}

export { OWNED_ARRAYS } from "@backprop/tensor";

export function fmtShapeOf(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

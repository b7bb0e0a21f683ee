/**
 * PyTorch's answers on NaN, ±∞ and ±0, recorded from torch 1.13 (Debian 12's python3-torch 1.13.1, CPU, float64):
 * `torch.<op>(torch.tensor(INPUT, dtype=torch.float64))` for each table below, values written as JavaScript
 * literals. They pin down the semantics the float64 reference and every backend must share (relu(NaN) = NaN,
 * maximum and max propagate NaN, argmax picks the first NaN, pow(1, NaN) = 1, log(−1) = NaN, sqrt(−0) = −0, …);
 * the random conformance cases then check the same rules on arbitrary shapes, layouts and values.
 * One deliberate difference: sign(NaN) is NaN (see the sign row).
 */
import type { RefBinaryOp, RefUnaryOp } from "./reference.ts";

/** Inputs of the unary table. */
export const UNARY_INPUT = [NaN, Infinity, -Infinity, -0, 0, -0.5, 0.5, -1, 2];
/** Each unary op's results on `UNARY_INPUT`, in float64. */
export const UNARY_ANSWERS: Readonly<Record<RefUnaryOp, readonly number[]>> = {
  neg: [NaN, -Infinity, Infinity, 0, -0, 0.5, -0.5, 1, -2],
  abs: [NaN, Infinity, Infinity, 0, 0, 0.5, 0.5, 1, 2],
  // PyTorch gives 0 for NaN, an open bug (pytorch/pytorch#41245); NaN here, as NumPy's sign and both backends.
  sign: [NaN, 1, -1, 0, 0, -1, 1, -1, 1],
  exp: [NaN, Infinity, 0, 1, 1, 0.6065306597126334, 1.6487212707001282, 0.36787944117144233, 7.38905609893065],
  log: [NaN, Infinity, NaN, -Infinity, -Infinity, NaN, -0.6931471805599453, NaN, 0.6931471805599453],
  log1p: [NaN, Infinity, NaN, -0, 0, -0.6931471805599453, 0.4054651081081644, -Infinity, 1.0986122886681098],
  expm1: [NaN, Infinity, -1, -0, 0, -0.3934693402873666, 0.6487212707001282, -0.6321205588285577, 6.38905609893065],
  sqrt: [NaN, Infinity, NaN, -0, 0, NaN, 0.7071067811865476, NaN, 1.4142135623730951],
  rsqrt: [NaN, 0, NaN, -Infinity, Infinity, NaN, 1.414213562373095, NaN, 0.7071067811865475],
  square: [NaN, Infinity, Infinity, 0, 0, 0.25, 0.25, 1, 4],
  reciprocal: [NaN, 0, -0, -Infinity, Infinity, -2, 2, -1, 0.5],
  sin: [NaN, NaN, NaN, -0, 0, -0.479425538604203, 0.479425538604203, -0.8414709848078965, 0.9092974268256817],
  cos: [NaN, NaN, NaN, 1, 1, 0.8775825618903728, 0.8775825618903728, 0.5403023058681398, -0.4161468365471424],
  tanh: [NaN, 1, -1, -0, 0, -0.46211715726000974, 0.46211715726000974, -0.7615941559557649, 0.9640275800758169],
  sigmoid: [NaN, 1, 0, 0.5, 0.5, 0.3775406687981454, 0.6224593312018546, 0.2689414213699951, 0.8807970779778823],
  softplus: [NaN, Infinity, 0, 0.6931471805599453, 0.6931471805599453, 0.4740769841801067, 0.9740769841801067, 0.31326168751822286, 2.1269280110429727],
  relu: [NaN, Infinity, 0, -0, 0, 0, 0.5, 0, 2],
  elu: [NaN, Infinity, -1, 0, 0, -0.3934693402873666, 0.5, -0.6321205588285577, 2],
  floor: [NaN, Infinity, -Infinity, -0, 0, -1, 0, -1, 2],
  ceil: [NaN, Infinity, -Infinity, -0, 0, -0, 1, -1, 2],
  round: [NaN, Infinity, -Infinity, -0, 0, -0, 0, -1, 2],
  logicalNot: [0, 0, 0, 1, 1, 0, 0, 0, 0],
};
/** Left operands of the binary table. */
export const BINARY_INPUT_A = [NaN, 1, NaN, Infinity, -Infinity, 1, -1, -1, -0, 0, -0, 2, 0.5, -2, -Infinity, -Infinity, Infinity, -0, 0, 3];
/** Right operands of the binary table, paired with `BINARY_INPUT_A` element by element. */
export const BINARY_INPUT_B = [1, NaN, NaN, Infinity, -Infinity, Infinity, Infinity, -Infinity, 0, -0, -0, Infinity, -Infinity, 0.5, 0.5, -0.5, -1, -1, -3, 0];
/** Each binary op's results on the pairs (comparisons and logical ops as 1/0). */
export const BINARY_ANSWERS: Readonly<Record<RefBinaryOp, readonly number[]>> = {
  add: [NaN, NaN, NaN, Infinity, -Infinity, Infinity, Infinity, -Infinity, 0, 0, -0, Infinity, -Infinity, -1.5, -Infinity, -Infinity, Infinity, -1, -3, 3],
  sub: [NaN, NaN, NaN, NaN, NaN, -Infinity, -Infinity, Infinity, -0, 0, 0, -Infinity, Infinity, -2.5, -Infinity, -Infinity, Infinity, 1, 3, 3],
  mul: [NaN, NaN, NaN, Infinity, Infinity, Infinity, -Infinity, Infinity, -0, -0, 0, Infinity, -Infinity, -1, -Infinity, Infinity, -Infinity, 0, -0, 0],
  div: [NaN, NaN, NaN, NaN, NaN, 0, -0, 0, NaN, NaN, NaN, 0, -0, -4, -Infinity, Infinity, -Infinity, 0, -0, Infinity],
  pow: [NaN, 1, NaN, Infinity, 0, 1, 1, 1, 1, 1, 1, Infinity, Infinity, NaN, Infinity, 0, 0, -Infinity, Infinity, 1],
  maximum: [NaN, NaN, NaN, Infinity, -Infinity, Infinity, Infinity, -1, 0, -0, -0, Infinity, 0.5, 0.5, 0.5, -0.5, Infinity, -0, 0, 3],
  minimum: [NaN, NaN, NaN, Infinity, -Infinity, 1, -1, -Infinity, 0, -0, -0, 2, -Infinity, -2, -Infinity, -Infinity, -1, -1, -3, 0],
  eq: [0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
  ne: [1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1],
  lt: [0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 0, 0, 0],
  le: [0, 0, 0, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0],
  gt: [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1],
  ge: [0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1],
  logicalAnd: [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0],
  logicalOr: [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1],
};
/** A [6, 4] array whose rows hold NaN, ±∞ and ±0 in the combinations reductions treat differently. */
export const ROWS_SHAPE = [6, 4] as const;
/** The values of that array, row by row. */
export const ROWS_INPUT = [1, NaN, 3, NaN, 1, Infinity, -Infinity, 2, -0, 0, -0, 0, -Infinity, -Infinity, -Infinity, -Infinity, Infinity, Infinity, 1, 1, 2, -Infinity, 0, 1];
/** A row operation of the table below. */
export type RowOp = "sum" | "prod" | "max" | "min" | "argmax" | "argmin" | "mean" | "logSumExp" | "softmax" | "logSoftmax";
/** Reductions of `ROWS_INPUT` along its last dimension (softmax and logSoftmax keep the shape). */
export const ROWS_ANSWERS: Readonly<Record<RowOp, readonly number[]>> = {
  sum: [NaN, NaN, 0, -Infinity, Infinity, -Infinity],
  prod: [NaN, -Infinity, 0, Infinity, Infinity, NaN],
  max: [NaN, Infinity, -0, -Infinity, Infinity, 2],
  min: [NaN, -Infinity, -0, -Infinity, 1, -Infinity],
  argmax: [1, 1, 0, 0, 0, 0],
  argmin: [1, 2, 0, 0, 2, 1],
  mean: [NaN, NaN, 0, -Infinity, Infinity, -Infinity],
  logSumExp: [NaN, Infinity, 1.3862943611198906, -Infinity, Infinity, 2.4076059644443806],
  softmax: [NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, 0.25, 0.25, 0.25, 0.25, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, 0.6652409557748218, 0, 0.09003057317038045, 0.2447284710547976],
  logSoftmax: [NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, -1.3862943611198906, -1.3862943611198906, -1.3862943611198906, -1.3862943611198906, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, -0.4076059644443804, -Infinity, -2.4076059644443806, -1.4076059644443804],
};

/** torch.nn.functional.max_pool2d over one 2×4 window [[1, NaN, 2, NaN], [0, 0, 0, 0]]: NaN at index 3, the last NaN. */
export const MAX_POOL_INPUT = [1, NaN, 2, NaN, 0, 0, 0, 0];
/** The value and index `max_pool2d(MAX_POOL_INPUT.view(1, 1, 2, 4), (2, 4), return_indices=True)` gives. */
export const MAX_POOL_ANSWER = { value: NaN, index: 3 } as const;

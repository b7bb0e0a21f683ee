// The benchmark's workloads: what each one computes and how many floating-point operations that is, so
// every framework's time turns into the same GFLOP/s.

/** One workload: its key, a description, and the FLOPs of one run (0 where GFLOP/s does not apply). */
export interface Workload {
  key: "W1" | "W2" | "W3" | "W3e" | "W4" | "W5";
  title: string;
  flops: number;
  /** Images per run, for workloads reported as images/s. */
  images?: number;
}

/** The ConvNet's 3×3 convolutions on 32×32 images: [in, out, spatial size]. */
export const CONVNET_LAYERS: readonly [number, number, number][] = [
  [3, 64, 32], [64, 128, 16], [128, 256, 8], [256, 256, 8], [256, 512, 4], [512, 512, 4], [512, 512, 2], [512, 512, 2],
];

/** Multiply-add FLOPs of the ConvNet's convolutions for `batch` images, forward only. */
function convnetForwardFlops(batch: number): number {
  return CONVNET_LAYERS.reduce((a, [i, o, s]) => a + 2 * batch * o * i * 9 * s * s, 0) + 2 * batch * 512 * 10;
}

/** A training step: forward, weight gradients, and input gradients of every layer but the first. */
function convnetStepFlops(batch: number): number {
  const first = 2 * batch * 64 * 3 * 9 * 32 * 32;
  return 3 * convnetForwardFlops(batch) - first;
}

/** MLP step: forward, weight gradients, input gradients of every layer but the first. */
function mlpStepFlops(batch: number, sizes: readonly number[]): number {
  let f = 0;
  for (let i = 0; i + 1 < sizes.length; i++) f += 2 * batch * sizes[i]! * sizes[i + 1]!;
  return 3 * f - 2 * batch * sizes[0]! * sizes[1]!;
}

export const WORKLOADS: readonly Workload[] = [
  { key: "W1", title: "MLP step, batch 200, 3072-100-10, SGD", flops: mlpStepFlops(200, [3072, 100, 10]) },
  { key: "W2", title: "MLP step, batch 200, 3072-200-200-100-10, Adam", flops: mlpStepFlops(200, [3072, 200, 200, 100, 10]) },
  { key: "W3", title: "ConvNet step, batch 32, Adam", flops: convnetStepFlops(32) },
  { key: "W3e", title: "ConvNet evaluation, batch 500", flops: convnetForwardFlops(500), images: 500 },
  { key: "W4", title: "matmul 1024x1024x1024 float32", flops: 2 * 1024 ** 3 },
  { key: "W5", title: "Conv2d forward, batch 32, 128->128, 16x16, 3x3 pad 1", flops: 2 * 32 * 128 * 128 * 9 * 16 * 16 },
];

/** A framework's implementation of a workload: `run` does one timed repetition. */
export interface Runner {
  run(): void | Promise<void>;
  dispose(): void;
}

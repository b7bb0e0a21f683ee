import type { Tensor } from "@backprop/autograd";
import { type NDArray, ones, ShapeError, zeros } from "@backprop/tensor";
import { batchNorm } from "../functional/batch_norm.ts";
import { Module } from "../module.ts";
import type { FactoryOptions } from "../options.ts";
import { Parameter } from "../parameter.ts";
import { fmtShape } from "../util.ts";

export interface BatchNormLayerOptions extends Omit<FactoryOptions, "generator"> {
  eps?: number;
  /** Weight of each new batch in the running averages; null averages all batches so far equally. */
  momentum?: number | null;
  /** Learnable γ (starts at 1) and β (starts at 0). */
  affine?: boolean;
  /** Keep running mean/variance for evaluation; without them evaluation also uses batch statistics. */
  trackRunningStats?: boolean;
}

/**
 * What BatchNorm1d and BatchNorm2d share (PyTorch's `_BatchNorm`): parameters `weight` (γ) and `bias` (β),
 * buffers `running_mean`, `running_var` and `num_batches_tracked`, momentum 0.1 and eps 1e-5 by default.
 * Training mode normalises with batch statistics and updates the running ones (variance unbiased);
 * evaluation mode normalises with the running ones.
 */
export abstract class BatchNormBase extends Module {
  weight: Parameter | null = null;
  bias: Parameter | null = null;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;

  constructor(readonly numFeatures: number, options: BatchNormLayerOptions = {}) {
    super();
    const { eps = 1e-5, momentum = 0.1, affine = true, trackRunningStats = true, dtype = "float32", device = "cpu" } = options;
    this.eps = eps;
    this.momentum = momentum;
    this.affine = affine;
    this.trackRunningStats = trackRunningStats;
    if (affine) {
      this.weight = new Parameter(ones([numFeatures], { dtype, device }));
      this.bias = new Parameter(zeros([numFeatures], { dtype, device }));
    }
    if (trackRunningStats) {
      this.registerBuffer("running_mean", zeros([numFeatures], { dtype, device }));
      this.registerBuffer("running_var", ones([numFeatures], { dtype, device }));
      this.registerBuffer("num_batches_tracked", zeros([], { dtype: "int32", device }));
    }
  }

  /** Throws a `ShapeError` unless `x` has the layout this layer normalises. */
  protected abstract checkInput(x: Tensor): void;

  protected expectChannels(x: Tensor, layout: string): void {
    if (x.shape[1] !== this.numFeatures) {
      throw new ShapeError(
        `${this.constructor.name}(${this.numFeatures}): expected input ${layout} with C = ${this.numFeatures}, got ${fmtShape(x.shape)}`,
      );
    }
  }

  /** Puts the running statistics back to mean 0, variance 1, no batches seen. */
  resetRunningStats(): void {
    if (!this.trackRunningStats) return;
    const rm = this.getBuffer("running_mean");
    this.setBuffer("running_mean", zeros(rm.shape, { dtype: rm.dtype, device: rm.device }));
    this.setBuffer("running_var", ones(rm.shape, { dtype: rm.dtype, device: rm.device }));
    this.setBuffer("num_batches_tracked", zeros([], { dtype: "int32", device: rm.device }));
  }

  override forward(x: Tensor): Tensor {
    this.checkInput(x);
    let factor: number | NDArray = this.momentum ?? 0;
    if (this.training && this.trackRunningStats) {
      const count = this.getBuffer("num_batches_tracked");
      const next = count.add(1);
      count.backend.copy(next, count);
      next.dispose();
      // A cumulative average weighs batch k by 1/k, computed on the device: no read-back, so any device.
      if (this.momentum === null) factor = count.cast(this.getBuffer("running_mean").dtype).reciprocal();
    }
    const useRunning = !this.training || this.trackRunningStats;
    const y = batchNorm(
      x,
      useRunning && this.trackRunningStats ? this.getBuffer("running_mean") : null,
      useRunning && this.trackRunningStats ? this.getBuffer("running_var") : null,
      {
        weight: this.weight,
        bias: this.bias,
        training: this.training || !this.trackRunningStats,
        momentum: factor,
        eps: this.eps,
      },
    );
    if (typeof factor !== "number") factor.dispose();
    return y;
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine}, ` +
      `track_running_stats=${this.trackRunningStats}`;
  }
}

/** Batch norm over [N, C] or [N, C, L] input (PyTorch's `nn.BatchNorm1d`). */
export class BatchNorm1d extends BatchNormBase {
  protected override checkInput(x: Tensor): void {
    if (x.ndim !== 2 && x.ndim !== 3) {
      throw new ShapeError(`BatchNorm1d: expected 2-D [N, C] or 3-D [N, C, L] input, got ${fmtShape(x.shape)}`);
    }
    this.expectChannels(x, x.ndim === 2 ? "[N, C]" : "[N, C, L]");
  }
}

/** Batch norm over [N, C, H, W] input, per channel (PyTorch's `nn.BatchNorm2d`). */
export class BatchNorm2d extends BatchNormBase {
  protected override checkInput(x: Tensor): void {
    if (x.ndim !== 4) throw new ShapeError(`BatchNorm2d: expected 4-D [N, C, H, W] input, got ${fmtShape(x.shape)}`);
    this.expectChannels(x, "[N, C, H, W]");
  }
}

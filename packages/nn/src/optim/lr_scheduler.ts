import { ValueError } from "@backprop/tensor";
import type { Optimizer } from "./optimizer.ts";

/**
 * A learning-rate schedule: the factor applied to the base learning rate for the optimizer step with 0-based
 * index `step`. Pure functions of the step, so a resumed run only needs to know how many steps it took.
 */
export type LrSchedule = (step: number) => number;

/** Options of {@link cosineSchedule}. */
export interface CosineScheduleOptions {
  /** Steps of the whole run; the factor reaches `finalFactor` at step `totalSteps` (just after the run). */
  totalSteps: number;
  /** Linear warm-up from 1/warmupSteps to 1 over the first steps (default 0: none). */
  warmupSteps?: number;
  /** Factor at the end of the decay (default 0). */
  finalFactor?: number;
}

/** The constant schedule: factor 1 at every step. */
export const constantSchedule: LrSchedule = () => 1;

/**
 * Linear warm-up, then cosine decay from 1 to `finalFactor` (Loshchilov & Hutter's SGDR without restarts; with
 * `warmupSteps: 0`, PyTorch's `CosineAnnealingLR` with `T_max = totalSteps`). Steps past the end keep `finalFactor`.
 */
export function cosineSchedule(options: CosineScheduleOptions): LrSchedule {
  const { totalSteps, warmupSteps = 0, finalFactor = 0 } = options;
  if (!Number.isInteger(totalSteps) || totalSteps < 1) {
    throw new ValueError(`cosineSchedule: totalSteps must be a positive integer, got ${totalSteps}`);
  }
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0 || warmupSteps >= totalSteps) {
    throw new ValueError(`cosineSchedule: warmupSteps must be an integer in [0, totalSteps = ${totalSteps}), got ${warmupSteps}`);
  }
  if (!(finalFactor >= 0 && finalFactor <= 1)) {
    throw new ValueError(`cosineSchedule: finalFactor must be in [0, 1], got ${finalFactor}`);
  }
  const decaySteps = totalSteps - warmupSteps;
  return (step) => {
    if (step < warmupSteps) return (step + 1) / warmupSteps;
    // 0 at the first step after warm-up, 1 one step after the run: the last step still learns a little.
    const progress = Math.min(1, (step - warmupSteps) / decaySteps);
    return finalFactor + (1 - finalFactor) * 0.5 * (1 + Math.cos(Math.PI * progress));
  };
}

/**
 * Sets each parameter group's learning rate to its base rate times `schedule(step)` (PyTorch's `LambdaLR`).
 * The base rates are the groups' rates when the scheduler is made; the first step's rate is set at once.
 *
 * ```ts
 * const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
 * const scheduler = new LrScheduler(optimizer, cosineSchedule({ totalSteps: 1000, warmupSteps: 50 }));
 * for (let i = 0; i < 1000; i++) { ...; optimizer.step(); scheduler.step(); }
 * ```
 */
export class LrScheduler {
  /** Each group's learning rate at factor 1. */
  readonly baseLrs: readonly number[];
  #step = 0;

  constructor(readonly optimizer: Optimizer, readonly schedule: LrSchedule) {
    this.baseLrs = optimizer.paramGroups.map((g) => g.lr);
    this.#apply();
  }

  /** Index of the optimizer step the current rates are for (0 before the first `step()`). */
  get currentStep(): number {
    return this.#step;
  }

  /** The groups' current learning rates. */
  get lrs(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** Advances to the next optimizer step's rates; call after `optimizer.step()`. */
  step(): void {
    this.#step++;
    this.#apply();
  }

  /** Jumps to step `step`'s rates (a resumed run). */
  setStep(step: number): void {
    if (!Number.isInteger(step) || step < 0) throw new ValueError(`LrScheduler.setStep: expected a non-negative integer, got ${step}`);
    this.#step = step;
    this.#apply();
  }

  #apply(): void {
    const factor = this.schedule(this.#step);
    if (!(factor >= 0) || !Number.isFinite(factor)) {
      throw new ValueError(`LrScheduler: the schedule gave factor ${factor} at step ${this.#step}; expected a finite number ≥ 0`);
    }
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = this.baseLrs[i]! * factor));
  }
}

import { BackpropError } from "@backprop/tensor";

/** No WebGPU in this runtime, or no adapter: the message carries the runtime's or adapter's own words. */
export class GpuUnavailableError extends BackpropError {}

/** The GPU device was lost (driver reset, `destroy()`, out of memory); every later call on it fails with this. */
export class GpuDeviceLostError extends BackpropError {
  /** `reason`: WebGPU's loss reason ("destroyed" or "unknown"). */
  constructor(message: string, readonly reason: string) {
    super(message);
  }
}

/** A single tensor or a dispatch larger than this adapter's limits allow (named in the message). */
export class GpuLimitError extends BackpropError {}

/** WebGPU reported a validation or out-of-memory error for work this backend submitted. */
export class GpuValidationError extends BackpropError {}

/** Base class of every error the library throws on bad input. */
export class BackpropError extends Error {
  /** An error whose `name` is the subclass's name; `options.cause` keeps an underlying error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Shapes that do not fit the operation (broadcasting, matmul inner sizes, reshape sizes, …). */
export class ShapeError extends BackpropError {}

/** A dtype the operation does not accept (e.g. a float index, a bool matmul). */
export class DTypeError extends BackpropError {}

/** Operands on different devices, or a device that is not registered. */
export class DeviceError extends BackpropError {}

/** An argument outside its allowed range (axis out of bounds, negative size, bad stride, …). */
export class ValueError extends BackpropError {}

/** Use of an array whose storage was already released with `dispose()`. */
export class DisposedError extends BackpropError {}

/** A device's memory cannot hold an allocation (the message names the device, the size asked for and the use). */
export class OutOfMemoryError extends BackpropError {}

/**
 * A check of the library's own invariants failed (generated kernel code, worker protocol, allocator
 * bookkeeping): a bug in the library, not in the caller's input. The message says which invariant.
 */
export class InternalError extends BackpropError {}

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

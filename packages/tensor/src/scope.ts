/**
 * Memory ownership. Every array owns one reference to its storage (views share a storage and each hold one).
 * `dispose()` drops it; the backend frees the storage when the count reaches zero. CPU memory would be
 * garbage-collected anyway, but GPU buffers are not collected in time, so the library frees deterministically:
 *
 * - `tidy(fn)` disposes every array created inside `fn` when it returns, except the arrays it returns
 *   (these move to the enclosing scope) and the ones passed to `keep()`.
 * - Code that keeps arrays across steps (parameters, optimizer state, gradients) calls `keep()` on them and
 *   disposes them itself when they are replaced.
 */
import { ValueError } from "./errors.ts";

/** What scopes track: something that frees its resources once. */
export interface Disposable {
  /** Frees the resources; later calls do nothing. */
  dispose(): void;
  /** Whether `dispose` ran. */
  readonly isDisposed: boolean;
}

const scopes: Set<Disposable>[] = [];

/**
 * Objects that wrap arrays (an autograd tensor, a module) implement this method to list the arrays they hold,
 * so that returning them from `tidy` keeps those arrays alive.
 */
export const OWNED_ARRAYS: unique symbol = Symbol.for("backprop.ownedArrays");

/** Called by every new array: the innermost open scope takes ownership of it. */
export function track<T extends Disposable>(x: T): T {
  const top = scopes[scopes.length - 1];
  if (top) top.add(x);
  return x;
}

/**
 * Whether the innermost open `tidy` scope will dispose `x` when it ends: a temporary that nothing has kept or
 * returned from an inner scope. Lets a consumer take over such an array instead of copying it.
 */
export function isTemporary(x: Disposable): boolean {
  return scopes[scopes.length - 1]?.has(x) ?? false;
}

/** Removes `x` from every open scope so no `tidy` disposes it. Returns `x`. */
export function keep<T extends Disposable>(x: T): T {
  for (const s of scopes) s.delete(x);
  return x;
}

function collect(value: unknown, out: Set<unknown>, depth = 0): void {
  if (value === null || typeof value !== "object" || depth > 4) return;
  if (out.has(value)) return;
  out.add(value);
  const owned = (value as { [OWNED_ARRAYS]?: () => Iterable<unknown> })[OWNED_ARRAYS];
  if (typeof owned === "function") for (const v of owned.call(value)) collect(v, out, depth + 1);
  if (Array.isArray(value)) for (const v of value) collect(v, out, depth + 1);
  else if (value instanceof Map) for (const v of value.values()) collect(v, out, depth + 1);
  else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collect(v, out, depth + 1);
  }
}

/**
 * Runs `fn` and disposes the arrays it created, except those reachable from its result (arrays, plain
 * objects and Maps are searched a few levels deep) and those kept. Synchronous functions only: an async
 * function's awaits would let unrelated work create arrays inside the scope.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Disposable>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const x of scope) x.dispose();
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) {
    // What fn created before its first await is still freed; what it creates later escapes every scope.
    for (const x of scope) x.dispose();
    throw new ValueError("tidy: expected a synchronous function, got one that returned a Promise (tidy only scopes synchronous code)");
  }
  const returned = new Set<unknown>();
  collect(result, returned);
  const parent = scopes[scopes.length - 1];
  for (const x of scope) {
    if (returned.has(x)) parent?.add(x);
    else x.dispose();
  }
  return result;
}

/** Number of open `tidy` scopes (for tests). */
export function scopeDepth(): number {
  return scopes.length;
}

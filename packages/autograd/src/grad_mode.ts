import { ValueError } from "@backprop/tensor";

let enabled = true;

/** Whether operations currently record a graph for backpropagation. */
export function isGradEnabled(): boolean {
  return enabled;
}

function withMode<T>(mode: boolean, fn: () => T): T {
  const previous = enabled;
  enabled = mode;
  try {
    const result = fn();
    if (result instanceof Promise) {
      throw new ValueError(
        "noGrad/enableGrad: expected a synchronous function, got one that returned a Promise; these scopes only cover synchronous code",
      );
    }
    return result;
  } finally {
    enabled = previous;
  }
}

/** Runs `fn` without recording operations (evaluation, optimizer updates), as `torch.no_grad()`. */
export function noGrad<T>(fn: () => T): T {
  return withMode(false, fn);
}

/** Runs `fn` with recording on, inside a `noGrad` scope. */
export function enableGrad<T>(fn: () => T): T {
  return withMode(true, fn);
}

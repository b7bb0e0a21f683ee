// Tiny builders for MathML Core, which browsers render natively: the equations need no script and no web font.

export const mi = (name: string, normal = false): string =>
  normal ? `<mi mathvariant="normal">${name}</mi>` : `<mi>${name}</mi>`;
export const mn = (n: string | number): string => `<mn>${n}</mn>`;
export const mo = (op: string, attrs = ""): string => `<mo${attrs ? " " + attrs : ""}>${op}</mo>`;
export const mtext = (text: string): string => `<mtext>${text}</mtext>`;
export const row = (...parts: string[]): string => `<mrow>${parts.join("")}</mrow>`;
export const frac = (num: string, den: string): string => `<mfrac>${num}${den}</mfrac>`;
export const sup = (base: string, exp: string): string => `<msup>${base}${exp}</msup>`;
export const sub = (base: string, index: string): string => `<msub>${base}${index}</msub>`;
export const space = (em = 0.5): string => `<mspace width="${em}em"></mspace>`;
export const parens = (...parts: string[]): string => row(mo("("), ...parts, mo(")"));
export const brackets = (...parts: string[]): string => row(mo("["), ...parts, mo("]"));

/** dA: the gradient of the loss with respect to A (same shape as A). */
export const d = (a: string): string => row(mi("d", true), a);

/** ∂L/∂X as a fraction. */
export const grad = (of: string, wrt: string): string =>
  frac(row(mo("∂", 'rspace="0"'), mi(of)), row(mo("∂", 'rspace="0"'), wrt));

/** Transpose: Aᵀ. */
export const transpose = (a: string): string => sup(a, mi("T", true));

/** ℝ^{a×b}. */
export const realSpace = (a: string, b: string): string => sup(mi("ℝ"), row(a, mo("×"), b));

/**
 * Σ_{var=1}^{upper}, limits to the side and a fixed size: stacked limits and large-operator sizing need an
 * OpenType MATH font, which many systems lack, and without one they overlap.
 */
export const sum = (variable: string, upper: string): string =>
  `<msubsup>${mo("∑", 'largeop="false" movablelimits="false" class="sum"')}${row(mi(variable), mo("="), mn(1))}${mi(upper)}</msubsup>`;

/**
 * A display equation. `label` is read out by screen readers; `tag`, a short name shown beside the equation
 * (below it on a narrow screen), stays outside the math so it can wrap.
 */
export const block = (label: string, ...parts: string[]): string =>
  `<div class="equation"><math display="block" aria-label="${label}">${row(...parts)}</math></div>`;

export const taggedBlock = (label: string, tag: string, ...parts: string[]): string =>
  `<div class="equation"><math display="block" aria-label="${label}">${row(...parts)}</math><span class="tag">${tag}</span></div>`;

/** An inline formula. */
export const inline = (...parts: string[]): string => `<math>${row(...parts)}</math>`;

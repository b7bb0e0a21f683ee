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
export const underover = (op: string, under: string, over: string): string =>
  `<munderover>${op}${under}${over}</munderover>`;
export const space = (em = 0.5): string => `<mspace width="${em}em"></mspace>`;
export const parens = (...parts: string[]): string => row(mo("("), ...parts, mo(")"));
export const brackets = (...parts: string[]): string => row(mo("["), ...parts, mo("]"));

/** ∂L/∂X as a fraction. */
export const grad = (of: string, wrt: string): string =>
  frac(row(mo("∂", 'rspace="0"'), mi(of)), row(mo("∂", 'rspace="0"'), wrt));

/** Transpose: Aᵀ. */
export const transpose = (a: string): string => sup(a, mi("T", true));

/** ℝ^{a×b}. */
export const realSpace = (a: string, b: string): string => sup(mi("ℝ"), row(a, mo("×"), b));

/** Σ_{var=1}^{upper}. */
export const sum = (variable: string, upper: string): string =>
  underover(mo("∑"), row(mi(variable), mo("="), mn(1)), mi(upper));

/** A block equation with a text label for screen readers. */
export const block = (label: string, ...parts: string[]): string =>
  `<math display="block" aria-label="${label}">${row(...parts)}</math>`;

/** An inline formula. */
export const inline = (...parts: string[]): string => `<math>${row(...parts)}</math>`;

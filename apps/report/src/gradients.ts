// The gradients section: the MLP's backpropagation equations in batched form, each followed by the relative
// error that `gradcheck --json` measured for the implementation against float64 finite differences.
import { formatRelError } from "./format.ts";
import { escapeHtml } from "./html.ts";
import {
  block,
  d,
  frac,
  grad,
  inline,
  mi,
  mn,
  mo,
  parens,
  realSpace,
  row,
  space,
  sub,
  sum,
  sup,
  taggedBlock,
  transpose,
} from "./mathml.ts";
import type { GradcheckResult } from "./types.ts";

/** Which gradcheck entries measure which equation: by name, since the op and module names are the CLI's. */
export const EQUATION_MATCHERS = {
  softmaxCrossEntropy: /cross.?entropy|softmax|nll/i,
  linear: /linear|matmul|dense|affine/i,
  relu: /relu/i,
} as const;

export type EquationKey = keyof typeof EQUATION_MATCHERS;

/** The gradcheck entries whose name matches an equation. */
export function resultsFor(key: EquationKey, results: readonly GradcheckResult[]): GradcheckResult[] {
  return results.filter((r) => EQUATION_MATCHERS[key].test(r.name));
}

const X = mi("X");
const Y = mi("Y");
const Z = mi("Z");
const H = mi("H");
const P = mi("P");
const W = mi("W");
const b = mi("b");
const B = mi("B");
const C = mi("C");
const L = mi("L");
const eq = mo("=");
const boldOne = `<mn class="bold">1</mn>`;
const one = (n: string) => sub(boldOne, mi(n));
const ij = (m: string) => sub(mi(m), row(mi("i"), mi("j")));
const ik = (m: string) => sub(mi(m), row(mi("i"), mi("k")));
const dims = (a: string, bb: string) => row(mo("∈"), realSpace(a, bb));

function notation(): string {
  return `<p>Shapes are batched, one row per example: a batch holds ${inline(B)} images, ${
    inline(X, dims(B, mi("in")))
  } is a layer's input, ${
    inline(Y, row(mo("∈"), sup(row(mo("{"), mn(0), mo(","), mn(1), mo("}")), row(B, mo("×"), C))))
  } the one-hot labels of ${inline(C)} classes, and a weight matrix is stored <em>out × in</em>, ${
    inline(W, dims(mi("out"), mi("in")))
  }, as PyTorch stores it. ${inline(d(mi("A")), eq, grad("L", mi("A")))} is the gradient of the loss with respect
  to ${inline(mi("A"))} and has its shape; ${inline(one("B"))} is a column of ${inline(B)} ones and
  ${inline(mo("⊙"))} the element-wise product.</p>`;
}

function forward(): string {
  return `<h3>Forward pass</h3>
  ${taggedBlock("Z equals X W transpose plus b", "linear", Z, eq, X, transpose(W), mo("+"), one("B"), transpose(b))}
  ${taggedBlock("H equals max of 0 and Z", "ReLU, element-wise", H, eq, mi("max", true), parens(mn(0), mo(","), Z))}
  ${
    taggedBlock(
      "P i j equals exp Z i j over the sum over k of exp Z i k",
      "softmax, per row",
      ij("P"),
      eq,
      frac(row(mi("exp", true), parens(ij("Z"))), row(sum("k", "C"), mi("exp", true), parens(ik("Z")))),
    )
  }
  ${
    taggedBlock(
      "L equals minus one over B times the sum over i and j of Y i j log P i j",
      "mean cross-entropy",
      L,
      eq,
      mo("−"),
      frac(mn(1), B),
      sum("i", "B"),
      sum("j", "C"),
      ij("Y"),
      mi("log", true),
      ij("P"),
    )
  }`;
}

function softmaxCrossEntropy(): string {
  return `<h3>Softmax and cross-entropy together</h3>
  ${block("dZ equals P minus Y over B", d(Z), eq, grad("L", Z), eq, frac(row(P, mo("−"), Y), B), space(2), dims(B, C))}
  <p class="why">Why: ${
    inline(
      mo("∂", 'rspace="0"'),
      mi("log", true),
      ij("P"),
      mo("/"),
      mo("∂", 'rspace="0"'),
      ik("Z"),
      eq,
      sub(mi("δ"), row(mi("j"), mi("k"))),
      mo("−"),
      ik("P"),
    )
  } and each row of ${inline(Y)} sums to 1, so example ${inline(mi("i"))} contributes
  ${inline(row(ik("P"), mo("−"), ik("Y")))} to the gradient of ${inline(ik("Z"))}, and the
  mean over the batch divides by ${inline(B)}. Taken together, the softmax's Jacobian never has to be formed.</p>`;
}

function linear(): string {
  return `<h3>Linear layer ${inline(Z, eq, X, transpose(W), mo("+"), one("B"), transpose(b))}</h3>
  ${block("dW equals dZ transpose times X", d(W), eq, transpose(d(Z)), X, space(2), dims(mi("out"), mi("in")))}
  ${
    block(
      "db equals the sum over the batch of the rows of dZ",
      d(b),
      eq,
      sum("i", "B"),
      sub(d(Z), row(mi("i"), mo(",", 'rspace="0"'), mo(":"))),
      eq,
      transpose(d(Z)),
      one("B"),
      space(2),
      row(mo("∈"), sup(mi("ℝ"), mi("out"))),
    )
  }
  ${block("dX equals dZ times W", d(X), eq, d(Z), W, space(2), dims(B, mi("in")))}
  <p class="why">The bias is added to every row, so its gradient sums over the batch. With ${inline(W)} stored
  out × in, ${inline(d(W))} is ${inline(transpose(d(Z)))} times ${inline(X)} (not ${inline(transpose(X), d(Z))}, which
  is the in × out layout), and ${inline(d(X))} multiplies by ${inline(W)} itself, not its transpose.</p>`;
}

function relu(): string {
  return `<h3>ReLU ${inline(H, eq, mi("max", true), parens(mn(0), mo(","), Z))}</h3>
  ${
    block(
      "dZ equals dH times the indicator of Z greater than 0",
      d(Z),
      eq,
      d(H),
      mo("⊙"),
      sub(boldOne, row(mo("["), Z, mo(">"), mn(0), mo("]"))),
    )
  }
  <p class="why">The gradient passes where the input was positive and is 0 elsewhere (at exactly 0 the
  subgradient 0 is used, which is why gradcheck samples inputs away from the kink).</p>`;
}

function measured(key: EquationKey, results: readonly GradcheckResult[] | undefined): string {
  if (results === undefined) return "";
  const found = resultsFor(key, results);
  if (found.length === 0) {
    return `<p class="measured none">No gradcheck result matches these equations (names matching <code>${
      escapeHtml(EQUATION_MATCHERS[key].source)
    }</code>).</p>`;
  }
  return `<ul class="measured">${found.map((r) => `<li>${resultLine(r)}</li>`).join("")}</ul>`;
}

function resultLine(r: GradcheckResult): string {
  const verdict = r.pass ? `<span class="pass">pass</span>` : `<span class="fail">FAIL</span>`;
  const tol = Number.isFinite(r.tolerance) ? ` (tolerance ${formatRelError(r.tolerance)})` : "";
  return `Measured: <code>${escapeHtml(r.name)}</code> <span class="kind">${escapeHtml(r.kind)}</span>, max relError
  <strong>${formatRelError(r.max_rel_error)}</strong>${tol} ${verdict}`;
}

function shapesText(shapes: unknown): string {
  if (shapes === undefined || shapes === null) return "—";
  return typeof shapes === "string" ? shapes : JSON.stringify(shapes);
}

function resultsTable(results: readonly GradcheckResult[]): string {
  const rows = results.map((r) =>
    `<tr class="${r.pass ? "" : "failed"}"><td><code>${escapeHtml(r.name)}</code></td><td>${escapeHtml(r.kind)}</td>` +
    `<td class="shapes">${escapeHtml(shapesText(r.shapes))}</td><td class="num">${formatRelError(r.max_rel_error)}</td>` +
    `<td class="num">${formatRelError(r.tolerance)}</td><td>${r.pass ? "pass" : "<strong>FAIL</strong>"}</td></tr>`
  ).join("");
  const failed = results.filter((r) => !r.pass).length;
  return `<h3>Every gradcheck result</h3>
  <p>${results.length} checks, ${failed === 0 ? "all pass" : `<strong>${failed} fail</strong>`}.</p>
  <div class="table-scroll"><table><thead><tr><th>name</th><th>kind</th><th>shapes</th><th>max relError</th>
  <th>tolerance</th><th>result</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

/**
 * The section's HTML. `results` undefined means no gradcheck output was given; the equations are shown anyway
 * with a note saying how to add the measurements.
 */
export function gradientsSection(results: readonly GradcheckResult[] | undefined): string {
  const intro = results === undefined
    ? `<p class="note">No gradcheck results were given, so the equations below carry no measured errors. Run
       <code>gradcheck --json &gt; gradcheck.json</code> and pass <code>--gradcheck gradcheck.json</code>.</p>`
    : `<p>After each equation: the largest relative error between the implementation's gradient and float64
       central finite differences, as measured by <code>gradcheck</code>.</p>`;
  return `${intro}${notation()}${forward()}
  <h3 class="group">Backward pass</h3>
  ${softmaxCrossEntropy()}${measured("softmaxCrossEntropy", results)}
  ${linear()}${measured("linear", results)}
  ${relu()}${measured("relu", results)}
  ${results && results.length > 0 ? resultsTable(results) : ""}`;
}

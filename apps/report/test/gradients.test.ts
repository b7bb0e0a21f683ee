import { describe, expect, it } from "vitest";
import { gradientsSection, resultsFor } from "../src/gradients.ts";
import type { GradcheckResult } from "../src/types.ts";

const result = (name: string, err: number, pass = true): GradcheckResult => ({
  name,
  kind: name.endsWith("Module") ? "module" : "op",
  shapes: [[4, 3]],
  max_rel_error: err,
  tolerance: 1e-6,
  pass,
});

const results = [
  result("cross_entropy", 2.5e-10),
  result("CrossEntropyModule", 3.5e-10),
  result("linear", 1.25e-9),
  result("relu", 7e-11),
  result("conv2d", 2e-3, false),
];

/** The page's text with tags removed, for checking what a reader sees. */
const text = (html: string) => html.replace(/<[^>]+>/g, "").replace(/\s+/g, " ");

describe("gradients section", () => {
  it("matches gradcheck results to equations by name", () => {
    expect(resultsFor("softmaxCrossEntropy", results).map((r) => r.name)).toEqual(["cross_entropy", "CrossEntropyModule"]);
    expect(resultsFor("linear", results).map((r) => r.name)).toEqual(["linear"]);
    expect(resultsFor("relu", results).map((r) => r.name)).toEqual(["relu"]);
  });

  it("writes the batched MLP equations as MathML", () => {
    const html = gradientsSection(undefined);
    expect(html).toContain('<math display="block"');
    const t = text(html);
    // dZ = ∂L/∂Z = (P − Y)/B
    expect(t).toContain("dZ=∂L∂Z=P−YB");
    // dW = dZᵀ X (W stored out × in), db = Σ_i dZ_i = dZᵀ 1, dX = dZ W
    expect(t).toContain("dW=dZTX∈ℝout×in");
    expect(t).toContain("db=∑i=1BdZi,:=dZT1B");
    expect(t).toContain("dX=dZW∈ℝB×in");
    // ReLU mask
    expect(t).toContain("dZ=dH⊙1[Z>0]");
    expect(t).toMatch(/No gradcheck results were given/);
  });

  it("follows each equation group with its measured relError and lists every result", () => {
    const html = gradientsSection(results);
    const t = text(html);
    const ce = t.indexOf("Measured: cross_entropy");
    const lin = t.indexOf("Measured: linear");
    const relu = t.indexOf("Measured: relu");
    expect(ce).toBeGreaterThan(t.indexOf("dZ=∂L∂Z=P−YB"));
    expect(lin).toBeGreaterThan(t.indexOf("dX=dZW"));
    expect(relu).toBeGreaterThan(t.indexOf("[Z>0]"));
    expect(t).toContain("max relError 2.5e-10");
    expect(t).toContain("max relError 1.3e-9");
    expect(t).toMatch(/5 checks, 1 fail/);
    expect(html).toContain('class="failed"');
  });

  it("says so when no result matches an equation", () => {
    const t = text(gradientsSection([result("conv2d", 1e-9)]));
    expect(t.match(/No gradcheck result matches these equations/g)).toHaveLength(3);
  });
});

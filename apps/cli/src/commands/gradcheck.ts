import { type GradcheckCase, opCases } from "../gradcheck_cases.ts";
import { moduleCases } from "../train/module_gradchecks.ts";

/** `gradcheck`: every op and module against float64 central differences; exit 1 when any fails. */
export async function gradcheckCommand(options: { json: boolean }): Promise<number> {
  const cases: GradcheckCase[] = [...opCases(), ...(await moduleCases())];
  const results = cases.map((c) => {
    const r = c.run();
    return { name: c.name, kind: c.kind, shapes: c.shapes, max_rel_error: r.maxRelError, tolerance: c.kind === "module" ? 1e-5 : null, pass: r.pass };
  });
  const failed = results.filter((r) => !r.pass).length;
  if (options.json) {
    console.log(JSON.stringify({ results }, null, 2));
  } else {
    const w = Math.max(...results.map((r) => r.name.length));
    const s = Math.max(...results.map((r) => r.shapes.length));
    console.log(`${"op / module".padEnd(w)}  ${"shapes".padEnd(s)}  max relError  result`);
    for (const r of results) {
      console.log(`${r.name.padEnd(w)}  ${r.shapes.padEnd(s)}  ${r.max_rel_error.toExponential(2).padStart(12)}  ${r.pass ? "pass" : "FAIL"}`);
    }
    console.log(`${results.length - failed} passed, ${failed} failed`);
  }
  return failed ? 1 : 0;
}

import { expect, test } from "vitest";
import { BINARY_OP_NAMES, BINARY_TABLE, UNARY_OP_NAMES, UNARY_TABLE } from "@backprop/tensor";
import { opCases } from "../src/gradcheck_cases.ts";
import { run } from "../src/main.ts";

/** Table ops whose gradient is zero wherever it exists: finite differences have nothing to check. */
const PIECEWISE_CONSTANT = new Set(["sign", "floor", "ceil", "round"]);

test("the gradcheck table has a case for every differentiable elementwise op of the op table", () => {
  const differentiable = [
    ...UNARY_OP_NAMES.filter((n) => !UNARY_TABLE[n].bool && !PIECEWISE_CONSTANT.has(n)),
    ...BINARY_OP_NAMES.filter((n) => !BINARY_TABLE[n].bool),
  ];
  const covered = new Set(opCases().map((c) => c.name.split(" ")[0]));
  expect(differentiable.filter((n) => !covered.has(n))).toEqual([]);
});

test("gradcheck --json: every op and manual module passes, in the format the report reads", async () => {
  const lines: string[] = [];
  const log = console.log;
  console.log = (s: string) => lines.push(s);
  let code: number;
  try {
    code = await run(["gradcheck", "--json"]);
  } finally {
    console.log = log;
  }
  const { results } = JSON.parse(lines.join("\n")) as { results: { name: string; kind: string; max_rel_error: number; pass: boolean }[] };
  expect(results.filter((r) => !r.pass)).toEqual([]);
  expect(code).toBe(0);
  const names = results.map((r) => r.name);
  for (const n of ["matmul", "conv2d (stride 2, padding 1, bias)", "maxPool2d (3×3, stride 2, padding 1)", "LinearModule (dx, dW, db)", "ReLUModule", "SoftMaxModule", "CrossEntropyModule"]) {
    expect(names).toContain(n);
  }
  expect(results.find((r) => r.name === "ReLUModule")!.max_rel_error).toBeLessThan(1e-6);
  expect(results.find((r) => r.name === "LinearModule (dx, dW, db)")!.max_rel_error).toBeLessThan(1e-5);
}, 120_000);

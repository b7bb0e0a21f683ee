import { describe, expect, it } from "vitest";
import { parseMetricsJsonl } from "../src/metrics_jsonl.ts";

const line = (step: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ step, train_loss: 2 - step / 1000, test_accuracy: step / 10000, ...extra });

describe("parseMetricsJsonl", () => {
  it("reads whole lines into rows sorted by step", () => {
    const { rows, problems } = parseMetricsJsonl([line(200), line(100)].join("\n") + "\n");
    expect(problems).toEqual([]);
    expect(rows.map((r) => r.step)).toEqual([100, 200]);
    expect(rows[0]).toEqual({ step: 100, train_loss: 1.9, test_accuracy: 0.01 });
  });

  it("keeps the lines before a cut-off last line and says what happened", () => {
    const text = `${line(100)}\n${line(200)}\n${line(300).slice(0, 17)}`;
    const { rows, problems } = parseMetricsJsonl(text);
    expect(rows.map((r) => r.step)).toEqual([100, 200]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/line 3 is cut off/);
    expect(problems[0]).toMatch(/2 complete line/);
  });

  it("skips a bad line in the middle and names it", () => {
    const { rows, problems } = parseMetricsJsonl(`${line(100)}\n{oops\n${line(300)}\n`);
    expect(rows.map((r) => r.step)).toEqual([100, 300]);
    expect(problems).toEqual(["metrics.jsonl line 2 is not valid JSON; skipped"]);
  });

  it("rejects a line without a numeric step", () => {
    const { rows, problems } = parseMetricsJsonl(`{"train_loss": 1}\n[1,2]\n`);
    expect(rows).toEqual([]);
    expect(problems[0]).toMatch(/line 1: "step" is missing/);
    expect(problems[1]).toMatch(/line 2: expected a JSON object/);
  });

  it("leaves out non-finite figures (a diverged run) but keeps the step", () => {
    const { rows } = parseMetricsJsonl(`{"step": 5, "train_loss": null, "test_loss": "NaN", "test_accuracy": 0.1}\n`);
    expect(rows).toEqual([{ step: 5, test_accuracy: 0.1 }]);
  });

  it("reads an empty file as no rows and no problems", () => {
    expect(parseMetricsJsonl("")).toEqual({ rows: [], problems: [] });
  });
});

import { describe, expect, it } from "vitest";
import { type LossPoint, lossScale, lossScaleNote } from "../src/loss_scale.ts";

/** A line of losses at steps 100, 200, … */
const line = (name: string, values: number[]): LossPoint[] => values.map((value, i) => ({ step: 100 * (i + 1), value, line: name }));

describe("lossScale", () => {
  it("keeps a plain linear axis when every loss stays within 10× the lowest start", () => {
    expect(lossScale([...line("a", [2.3, 1.5, 0.9]), ...line("b", [2.2, 1.9, 4.5])])).toEqual({ kind: "linear" });
    expect(lossScale([])).toEqual({ kind: "linear" });
  });

  it("clips to the lines that stayed, padded by 5 %, and counts what is above", () => {
    const scale = lossScale([...line("healthy", [2.3, 1.3, 0.3]), ...line("blown", [2.3, 90, 3e12])]);
    expect(scale.kind).toBe("clipped");
    if (scale.kind !== "clipped") return;
    expect(scale.domain[0]).toBeCloseTo(0.3 - 0.1);
    expect(scale.domain[1]).toBeCloseTo(2.3 + 0.1);
    expect(scale).toMatchObject({ clipped: 2, max: 3e12, lines: ["blown"] });
    expect(lossScaleNote(scale, (l) => l.join(", "))).toBe(
      "▲ off the chart: 2 points of blown above 2.4, up to 3.0e12. The loss axis is clipped to the lines that stayed within 10× the lowest starting loss.",
    );
  });

  it("measures the fence from each line's first step, whatever the order of the points", () => {
    const points = [...line("a", [2, 1.8, 1.6]), ...line("b", [1.9, 50, 1e9])].reverse();
    expect(lossScale(points)).toMatchObject({ kind: "clipped", clipped: 2, lines: ["b"] });
  });

  it("uses a log axis when every line blows up", () => {
    const scale = lossScale([...line("train", [2, 1.9, 5e3, 3e12]), ...line("test", [2.1, 2, 6e3, 2e12])]);
    expect(scale).toEqual({ kind: "log", max: 3e12 });
    expect(lossScaleNote(scale, String)).toBe(
      "Log-scale loss axis: every line climbs past 10× the lowest starting loss (up to 3.0e12).",
    );
  });

  it("falls back to a clip at the fence where a zero rules out a log axis", () => {
    const scale = lossScale(line("train", [1, 0, 1e6]));
    expect(scale).toMatchObject({ kind: "clipped", clipped: 1, max: 1e6 });
  });
});

import { describe, expect, it } from "vitest";
import {
  formatBytes,
  formatCompact,
  formatDuration,
  formatNumber,
  formatPercent,
  formatPercentMeanStd,
  formatRelError,
  formatTimestamp,
} from "../src/format.ts";
import { meanStd } from "../src/stats.ts";

describe("meanStd", () => {
  it("uses the sample standard deviation", () => {
    const r = meanStd([0.46, 0.45, 0.47])!;
    expect(r.mean).toBeCloseTo(0.46);
    expect(r.std).toBeCloseTo(0.01);
    expect(r.n).toBe(3);
  });

  it("ignores missing values and gives std 0 for one value", () => {
    expect(meanStd([undefined, 0.5, NaN])).toEqual({ mean: 0.5, std: 0, n: 1 });
    expect(meanStd([])).toBeUndefined();
  });
});

describe("format", () => {
  // Numbers and units are joined by no-break spaces so a line never ends between them.
  const nb = (text: string) => text.replace(/ /g, "\u00a0");
  it("writes the report's units", () => {
    expect(formatPercent(0.4612)).toBe(nb("46.12 %"));
    expect(formatPercent(undefined)).toBe("—");
    expect(formatPercentMeanStd(0.4612, 0.0031)).toBe(nb("46.12 ± 0.31 %"));
    expect(formatBytes(512)).toBe(nb("512 B"));
    expect(formatBytes(1536 * 1024 * 1024)).toBe(nb("1.5 GiB"));
    expect(formatDuration(3725)).toBe("1\u00a0h 2\u00a0min 5\u00a0s");
    expect(formatDuration(75)).toBe("1\u00a0min 15\u00a0s");
    expect(formatDuration(4.5)).toBe(nb("4.50 s"));
    expect(formatNumber(1500)).toBe("1,500");
    expect(formatNumber(1.234567)).toBe("1.235");
    expect(formatRelError(3.14e-9)).toBe("3.1e-9");
    expect(formatTimestamp("2025-01-01T09:30:00.000+01:00")).toBe("2025-01-01 08:30:00\u00a0UTC");
    expect(formatTimestamp("yesterday")).toBe("yesterday");
  });

  it("writes huge and tiny numbers in short scientific notation, never as long digit strings", () => {
    expect(formatNumber(3e12)).toBe("3.0e12");
    expect(formatNumber(2.9999e31)).toBe("3.0e31");
    expect(formatNumber(-4.2e7)).toBe("-4.2e7");
    expect(formatNumber(1_000_000)).toBe("1.0e6");
    expect(formatNumber(999_999)).toBe("999,999");
    expect(formatNumber(0.0001)).toBe("0.0001");
    expect(formatNumber(0.0000123)).toBe("1.2e-5");
    expect(formatNumber(0)).toBe("0");
    expect(formatNumber(Infinity)).toBe("—");
    expect(formatCompact(2.4149)).toBe("2.41");
    expect(formatCompact(3e12)).toBe("3.0e12");
  });
});

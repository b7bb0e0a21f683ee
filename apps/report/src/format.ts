// How numbers read in the report: accuracies as percentages, sizes in binary units, durations in h/min/s.

const DASH = "—";

/** Keeps a number and its unit on one line. */
const NBSP = "\u00a0";

/** 0.4612 → "46.12 %". Accuracies in the run records are fractions in [0, 1]. */
export function formatPercent(fraction: number | undefined, digits = 2): string {
  return isNumber(fraction) ? `${(fraction * 100).toFixed(digits)}${NBSP}%` : DASH;
}

/** A mean ± std of fractions as percentages: "46.12 ± 0.31 %". */
export function formatPercentMeanStd(mean: number, std: number, digits = 2): string {
  return `${(mean * 100).toFixed(digits)}${NBSP}±${NBSP}${(std * 100).toFixed(digits)}${NBSP}%`;
}

/** Magnitudes from here up are written in scientific notation: 3e12 is "3.0e12", never 13 digits. */
export const COMPACT_FROM = 1e6;

/**
 * A number for a table or a caption, at most `digits` significant digits: 1500 → "1,500", 1.51478 → "1.515",
 * 3e12 → "3.0e12" (anything of magnitude 1e6 or more; a diverged loss must not print as a 13-digit number),
 * 0.0000123 → "1.2e-5".
 */
export function formatNumber(value: number | undefined, digits = 4): string {
  if (!isNumber(value)) return DASH;
  const magnitude = Math.abs(value);
  if (magnitude >= COMPACT_FROM || (magnitude !== 0 && magnitude < 1e-4)) return scientific(value);
  if (Number.isInteger(value)) return value.toLocaleString("en-US");
  return Number(value.toPrecision(digits)).toString();
}

/** A number in at most a few characters, for captions and chart labels: 2.4149 → "2.41", 3e12 → "3.0e12". */
export function formatCompact(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return formatNumber(value, 3);
}

/** 3e12 → "3.0e12", 1.25e-5 → "1.3e-5": one decimal, no "+" in the exponent. */
function scientific(value: number): string {
  return value.toExponential(1).replace("e+", "e");
}

/** 1536 → "1.5 KiB". */
export function formatBytes(bytes: number | undefined): string {
  if (!isNumber(bytes)) return DASH;
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)}${NBSP}${units[unit]}`;
}

/** 3725 → "1 h 2 min 5 s"; 12.34 → "12.3 s". */
export function formatDuration(seconds: number | undefined): string {
  if (!isNumber(seconds)) return DASH;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)}${NBSP}s`;
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return (h > 0 ? `${h} h ${m} min ${s} s` : `${m} min ${s} s`).replace(/ (?=[hms])/g, NBSP);
}

/** A relative error in scientific notation: 3.2e-9. */
export function formatRelError(value: number | undefined): string {
  return isNumber(value) ? value.toExponential(1) : DASH;
}

/** An ISO 8601 time as "2025-01-01 09:30:00 UTC"; text that is not a time is returned as it is. */
export function formatTimestamp(iso: string): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  return `${t.toISOString().slice(0, 10)} ${t.toISOString().slice(11, 19)}${NBSP}UTC`;
}

function isNumber(value: number | undefined): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

// The overview: every run in one table sorted by test accuracy, a bar chart of the same, and mean ± std over
// runs that differ only in their seed.
import { chartFigure } from "./chart_figure.ts";
import { accuracyBarsSpec } from "./charts.ts";
import { configurations, settingsOf, varyingSettings } from "./compare.ts";
import type { ReportContext } from "./context.ts";
import { formatBytes, formatDuration, formatNumber, formatPercent, formatPercentMeanStd } from "./format.ts";
import { escapeHtml } from "./html.ts";
import { runFacts, sortByTestAccuracy } from "./run_facts.ts";
import { statusBadge } from "./run_section.ts";
import { meanStd } from "./stats.ts";
import type { Run } from "./types.ts";

export async function summarySection(runs: readonly Run[], ctx: ReportContext): Promise<string> {
  const sorted = sortByTestAccuracy(runs);
  const varying = varyingSettings(runs);
  const head = [
    `<th class="num">#</th>`,
    `<th>run</th>`,
    `<th>status</th>`,
    `<th class="num">final test acc.</th>`,
    `<th class="num">best test acc. (step)</th>`,
    `<th class="num">final test loss</th>`,
    ...varying.map((s) => `<th><code>${escapeHtml(s)}</code></th>`),
    `<th class="num">seed</th>`,
    `<th class="num">steps</th>`,
    `<th class="num">wall time</th>`,
    `<th class="num">peak memory</th>`,
    `<th>device</th>`,
  ].join("");
  const rows = sorted.map(({ run, facts: f }, i) => {
    const settings = settingsOf(run);
    return `<tr><td class="num rank">${i + 1}</td>
      <td><a href="#${ctx.runAnchor(run)}">${escapeHtml(run.id)}</a></td>
      <td>${statusBadge(f.status)}</td>
      <td class="num"><strong>${formatPercent(f.finalTestAccuracy)}</strong></td>
      <td class="num">${formatPercent(f.bestTestAccuracy)}${f.bestStep !== undefined ? ` (${formatNumber(f.bestStep)})` : ""}</td>
      <td class="num">${formatNumber(f.finalTestLoss)}</td>
      ${varying.map((s) => `<td>${escapeHtml(settings.get(s) ?? "—")}</td>`).join("")}
      <td class="num">${formatNumber(f.seed)}</td>
      <td class="num">${formatNumber(f.steps)}</td>
      <td class="num">${formatDuration(f.wallS)}</td>
      <td class="num">${formatBytes(f.peakRssBytes)}</td>
      <td>${escapeHtml(f.device ?? "—")}</td></tr>`;
  }).join("");

  const bars = sorted
    .filter(({ facts }) => facts.finalTestAccuracy !== undefined)
    .map(({ run, facts }) => ({ run: run.id, accuracy: facts.finalTestAccuracy! }));
  const chart = bars.length > 0 ? await chartFigure(accuracyBarsSpec(bars), "summary-accuracy") : "";

  const settingsNote = varying.length > 0
    ? `<p class="note">Columns in <code>code</code> are the settings that differ between runs; all others are the same everywhere.</p>`
    : "";
  return `<p>${runs.length} run${runs.length === 1 ? "" : "s"}, sorted by final test accuracy.</p>
  <div class="table-scroll"><table class="summary"><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table></div>
  ${settingsNote}
  <div class="charts">${chart}</div>
  <h3 id="${ctx.ids.next("seeds")}">Mean ± std over seeds</h3>
  ${seedTable(runs, varying)}`;
}

/** "model=mlp, learning_rate=0.002" from the settings that vary in the report, or "all runs". */
export function describeSettings(settings: Map<string, string>, which: readonly string[]): string {
  const parts = which.filter((s) => settings.has(s)).map((s) => `${s}=${settings.get(s)}`);
  return parts.length > 0 ? parts.join(", ") : "all runs";
}

function seedTable(runs: readonly Run[], varying: string[]): string {
  const repeated = configurations(runs).filter((c) => c.runs.length >= 2);
  if (repeated.length === 0) {
    return `<p class="note">No configuration was run with more than one seed, so there is no spread to show.</p>`;
  }
  const rows = repeated.map((c) => {
    const facts = c.runs.map(runFacts);
    const final = meanStd(facts.map((f) => f.finalTestAccuracy));
    const best = meanStd(facts.map((f) => f.bestTestAccuracy));
    const wall = meanStd(facts.map((f) => f.wallS));
    const seeds = facts.map((f) => f.seed ?? "?").join(", ");
    return `<tr><td>${escapeHtml(describeSettings(c.settings, varying))}</td>
      <td class="num">${c.runs.length}</td><td>${escapeHtml(seeds)}</td>
      <td class="num"><strong>${final ? formatPercentMeanStd(final.mean, final.std) : "—"}</strong>${final && final.n < c.runs.length ? ` <span class="muted">(${final.n} with a result)</span>` : ""}</td>
      <td class="num">${best ? formatPercentMeanStd(best.mean, best.std) : "—"}</td>
      <td class="num">${wall ? formatDuration(wall.mean) : "—"}</td></tr>`;
  }).join("");
  return `<p class="note">Runs whose settings are identical except for the seed; std is the sample standard deviation.</p>
  <div class="table-scroll"><table><thead><tr><th>configuration</th><th class="num">runs</th><th>seeds</th>
  <th class="num">final test acc.</th><th class="num">best test acc.</th><th class="num">mean wall time</th></tr></thead>
  <tbody>${rows}</tbody></table></div>`;
}

// The overview: every run in one table sorted by test accuracy, a bar chart of the same, and mean ± std over
// runs that differ only in their seed.
import { chartFigure } from "./chart_figure.ts";
import { accuracyBarsSpec } from "./charts.ts";
import { commonSettings, configurations, settingsOf, varyingSettings } from "./compare.ts";
import type { ReportContext } from "./context.ts";
import { formatBytes, formatDuration, formatNumber, formatPercent } from "./format.ts";
import { escapeHtml, runName } from "./html.ts";
import { runFacts, sortByTestAccuracy } from "./run_facts.ts";
import { statusBadge } from "./run_section.ts";
import { formatAccuracyStats, leftOutNote, seedStats } from "./seed_stats.ts";
import type { Run } from "./types.ts";

export async function summarySection(runs: readonly Run[], ctx: ReportContext): Promise<string> {
  const sorted = sortByTestAccuracy(runs);
  const varying = varyingSettings(runs);
  const common = commonSettings(runs, varying);
  const head = [
    `<th class="num">#</th>`,
    `<th>run</th>`,
    `<th class="num">final test acc.</th>`,
    `<th class="num">best test acc. (step)</th>`,
    `<th class="num">final test loss</th>`,
    varying.length > 0 ? `<th>differs from the common settings in</th>` : "",
    `<th class="num">seed</th>`,
    `<th class="num">wall time</th>`,
    `<th class="num">peak memory</th>`,
    `<th>device</th>`,
  ].join("");
  const rows = sorted.map(({ run, facts: f }, i) => {
    const settings = settingsOf(run);
    const chips = run.config === undefined
      ? `<span class="muted">no config.json</span>`
      : varying.filter((s) => (settings.get(s) ?? "(unset)") !== common.get(s))
        .map((s) => `<span class="chip"><code>${escapeHtml(s)}</code>=${escapeHtml(settings.get(s) ?? "(unset)")}</span>`)
        .join(" ");
    return `<tr><td class="num rank">${i + 1}</td>
      <td class="run-name"><a href="#${ctx.runAnchor(run)}">${runName(run.id)}</a>${
      f.status === "completed" ? "" : `<br>${statusBadge(f.status)}`
    }</td>
      <td class="num"><strong>${formatPercent(f.finalTestAccuracy)}</strong></td>
      <td class="num">${formatPercent(f.bestTestAccuracy)}${
      f.bestStep !== undefined ? `<span class="at-step"> (${formatNumber(f.bestStep)})</span>` : ""
    }</td>
      <td class="num">${formatNumber(f.finalTestLoss)}</td>
      ${varying.length > 0 ? `<td class="chips">${chips || `<span class="muted">none</span>`}</td>` : ""}
      <td class="num">${formatNumber(f.seed)}</td>
      <td class="num">${formatDuration(f.wallS)}</td>
      <td class="num">${formatBytes(f.peakRssBytes)}</td>
      <td>${escapeHtml(f.device ?? "—")}</td></tr>`;
  }).join("");

  const bars = sorted
    .filter(({ facts }) => facts.finalTestAccuracy !== undefined)
    .map(({ run, facts }) => ({ run: run.id, accuracy: facts.finalTestAccuracy! }));
  const chart = bars.length > 0 ? await chartFigure(accuracyBarsSpec(bars), "summary-accuracy") : "";

  const commonText = [...common].map(([k, v]) => `<span class="chip"><code>${escapeHtml(k)}</code>=${escapeHtml(v)}</span>`)
    .join(" ");
  const settingsNote = varying.length > 0
    ? `<p class="note">Common settings (the most frequent value of each setting that varies): ${commonText}. Each row
       lists where its run differs from them, and a run that did not complete says so under its name; seeds and output paths aside, every other flag is the same in all
       runs. A run's full flag list is in its own section.</p>`
    : "";
  return `<p>${runs.length} run${runs.length === 1 ? "" : "s"}, sorted by final test accuracy.</p>
  ${settingsNote}
  <div class="table-scroll"><table class="summary"><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table></div>
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
    const stats = seedStats(c.runs);
    const seeds = c.runs.map((r) => runFacts(r).seed ?? "?").join(", ");
    return `<tr><td>${escapeHtml(describeSettings(c.settings, varying))}</td>
      <td class="num">${c.runs.length}</td><td class="seeds">${escapeHtml(seeds)}</td>
      <td class="num"><strong>${formatAccuracyStats(stats.finalTestAccuracy)}</strong>${leftOutNote(stats)}</td>
      <td class="num">${formatAccuracyStats(stats.bestTestAccuracy)}</td>
      <td class="num">${stats.wallS ? formatDuration(stats.wallS.mean) : "—"}</td></tr>`;
  }).join("");
  return `<p class="note">Runs whose settings are identical except for the seed. Mean ± sample standard deviation over
  the runs that completed.</p>
  <div class="table-scroll"><table class="seeds"><thead><tr><th>configuration</th><th class="num">runs</th><th>seeds</th>
  <th class="num">final test acc.</th><th class="num">best test acc.</th><th class="num">mean wall time</th></tr></thead>
  <tbody>${rows}</tbody></table></div>`;
}

// Runs that differ in exactly one setting, drawn on shared axes so the effect of that setting is visible.
import { chartFigure } from "./chart_figure.ts";
import { comparisonSpec } from "./charts.ts";
import { type OneSettingComparison, oneSettingComparisons, varyingSettings } from "./compare.ts";
import type { ReportContext } from "./context.ts";
import { seriesCurves } from "./curves.ts";
import { escapeHtml, runName } from "./html.ts";
import { lossScale, lossScaleNote } from "./loss_scale.ts";
import { formatAccuracyStats, leftOutNote, seedStats } from "./seed_stats.ts";
import { describeSettings } from "./summary_section.ts";
import type { Run } from "./types.ts";

async function comparisonBlock(c: OneSettingComparison, varying: string[], ctx: ReportContext): Promise<string> {
  const id = ctx.ids.next(`compare-${c.setting}`);
  const valueOf = new Map<Run, string>();
  for (const m of c.members) for (const r of m.runs) valueOf.set(r, m.value);
  const runs = c.members.flatMap((m) => m.runs);
  const order = c.members.map((m) => m.value);
  const withRun = (field: "test_accuracy" | "train_loss" | "test_loss") =>
    runs.flatMap((run) => seriesCurves([run], field, (r) => valueOf.get(r)!).map((p) => ({ ...p, run: run.id })));
  const fixed = describeSettings(c.fixed, varying.filter((s) => s !== c.setting));
  const seedsNote = c.members.some((m) => m.runs.length > 1) ? " Each seed is its own line, in its value's colour." : "";

  const figures: string[] = [];
  const acc = withRun("test_accuracy");
  if (acc.length > 0) {
    figures.push(await chartFigure(comparisonSpec(acc, "accuracy", `Test accuracy by ${c.setting}`, c.setting, "test accuracy (%)", order), `${id}-test-accuracy`));
  }
  for (const [field, what] of [["train_loss", "Training"], ["test_loss", "Test"]] as const) {
    const loss = withRun(field);
    if (loss.length === 0) continue;
    const scale = lossScale(loss.map((p) => ({ step: p.step, value: p.value, line: p.run })));
    const note = lossScaleNote(scale, (runs) => runs.map(runName).join(", "));
    const spec = comparisonSpec(loss, "loss", `${what} loss by ${c.setting}`, c.setting, `${field.slice(0, -5)} cross-entropy loss`, order, scale);
    figures.push(await chartFigure(spec, `${id}-${field.replace("_", "-")}`, note));
  }

  const rows = c.members.map((m) => {
    const stats = seedStats(m.runs);
    const acc = formatAccuracyStats(stats.finalTestAccuracy) + leftOutNote(stats);
    const links = m.runs.map((r) => `<a href="#${ctx.runAnchor(r)}">${runName(r.id)}</a>`).join(", ");
    return `<tr><td><code>${escapeHtml(m.value)}</code></td><td class="num">${acc}</td><td>${links}</td></tr>`;
  }).join("");

  return `<div class="comparison" id="${id}">
    <h3>${escapeHtml(c.setting)}: ${c.members.map((m) => `<code>${escapeHtml(m.value)}</code>`).join(" vs ")}</h3>
    <p class="fixed">Held fixed: ${escapeHtml(fixed)}.${seedsNote}</p>
    ${figures.length > 0 ? `<div class="charts">${figures.join("")}</div>` : `<p class="note">No curves to draw.</p>`}
    <div class="table-scroll"><table><thead><tr><th>${escapeHtml(c.setting)}</th><th class="num">final test acc.</th><th>runs</th></tr></thead><tbody>${rows}</tbody></table></div>
  </div>`;
}

export async function comparisonSection(runs: readonly Run[], ctx: ReportContext): Promise<string> {
  const comparisons = oneSettingComparisons(runs);
  if (comparisons.length === 0) {
    return `<p class="note">No two runs differ in exactly one setting (seeds aside), so there is nothing to draw on shared axes.</p>`;
  }
  const varying = varyingSettings(runs);
  const blocks: string[] = [];
  for (const c of comparisons) blocks.push(await comparisonBlock(c, varying, ctx));
  return `<p>Each group below holds every setting fixed but one (seeds aside), and draws its runs on the same axes.</p>${blocks.join("\n")}`;
}

// One run's part of the report: headline numbers, hyper-parameters, curves, confusion matrix and sample images.
import { chartFigure } from "./chart_figure.ts";
import { confusionSpec, learningRateSpec, perClassSpec, runCurveSpec } from "./charts.ts";
import { canonical } from "./compare.ts";
import { confusionCells, perClassAccuracy } from "./confusion.ts";
import type { ReportContext } from "./context.ts";
import { curve, learningRateCurve } from "./curves.ts";
import { formatBytes, formatDuration, formatNumber, formatPercent, formatTimestamp } from "./format.ts";
import { escapeHtml, runName } from "./html.ts";
import { lossScale, lossScaleNote } from "./loss_scale.ts";
import { runFacts } from "./run_facts.ts";
import { sampleImageDataUri } from "./sample_image.ts";
import type { Predictions, Run, Sample } from "./types.ts";

export function statusBadge(status: string): string {
  return `<span class="status ${escapeHtml(status.replace(/\s+/g, "-"))}">${escapeHtml(status)}</span>`;
}

function fact(label: string, value: string): string {
  return `<div><dt>${escapeHtml(label)}</dt><dd>${value}</dd></div>`;
}

function factsList(run: Run): string {
  const f = runFacts(run);
  const c = run.config;
  const items = [
    fact("final test accuracy", formatPercent(f.finalTestAccuracy)),
    fact(
      "best test accuracy",
      `${formatPercent(f.bestTestAccuracy)}${f.bestStep !== undefined ? ` <span class="muted">at step ${formatNumber(f.bestStep)}</span>` : ""}`,
    ),
    fact("final test loss", formatNumber(f.finalTestLoss)),
    fact("steps", formatNumber(f.steps)),
    fact("wall time", formatDuration(f.wallS)),
    fact("peak memory (RSS)", formatBytes(f.peakRssBytes)),
    fact("throughput", f.examplesPerS !== undefined ? `${formatNumber(Math.round(f.examplesPerS))} examples/s` : "—"),
    fact("model", escapeHtml(f.model ?? "—")),
    fact("device", escapeHtml(f.device ?? "—")),
    fact("seed", formatNumber(f.seed)),
  ];
  if (c?.started_at) items.push(fact("started", escapeHtml(formatTimestamp(c.started_at))));
  if (c?.git_commit) items.push(fact("git commit", `<code>${escapeHtml(c.git_commit.slice(0, 12))}</code>`));
  if (c?.versions) {
    const v = Object.entries(c.versions).map(([k, val]) => `${escapeHtml(k)} ${escapeHtml(val)}`).join(", ");
    if (v) items.push(fact("versions", v));
  }
  const note = f.fromMetrics && run.metrics.length > 0
    ? `<p class="note">summary.json is missing: the figures above come from the last lines of metrics.jsonl.</p>`
    : "";
  return `<dl class="facts">${items.join("")}</dl>${note}`;
}

function flagsTable(run: Run): string {
  const flags = Object.entries(run.config?.flags ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (flags.length === 0) return `<p class="note">No hyper-parameters recorded (config.json missing or empty).</p>`;
  const items = flags.map(([k, v]) => `<div><dt><code>--${escapeHtml(k)}</code></dt><dd>${escapeHtml(canonical(v))}</dd></div>`);
  return `<h4>Hyper-parameters</h4><dl class="flags">${items.join("")}</dl>`;
}

async function curveCharts(run: Run, ctx: ReportContext): Promise<string> {
  if (run.metrics.length === 0) return `<p class="note">No curves: metrics.jsonl has no usable line.</p>`;
  const base = ctx.runAnchor(run);
  const loss = curve(run.metrics, "loss");
  const accuracy = curve(run.metrics, "accuracy");
  const figures: string[] = [];
  if (loss.length > 0) {
    const scale = lossScale(loss.map((p) => ({ step: p.step, value: p.value, line: p.split })));
    const note = lossScaleNote(scale, (splits) => `the ${splits.join(" and ")} loss`);
    figures.push(await chartFigure(runCurveSpec(loss, "loss", `Loss — ${run.id}`, scale), `${base}-loss`, note));
  }
  if (accuracy.length > 0) {
    figures.push(await chartFigure(runCurveSpec(accuracy, "accuracy", `Accuracy — ${run.id}`), `${base}-accuracy`));
  }
  const rates = learningRateCurve(run.metrics);
  if (rates.length > 0) {
    figures.push(await chartFigure(learningRateSpec(rates, `Learning rate — ${run.id}`), `${base}-learning-rate`, "The rate at each evaluation's step, as the schedule set it."));
  }
  const caption = `<p class="note">Train figures are means over the steps since the previous evaluation; test figures
    are over the whole test set.</p>`;
  return `<h4>Learning curves</h4><div class="charts">${figures.join("")}</div>${caption}`;
}

async function confusionCharts(run: Run, p: Predictions, ctx: ReportContext): Promise<string> {
  const base = ctx.runAnchor(run);
  const perClass = perClassAccuracy(p.confusion).map((accuracy, i) => ({ class: p.classes[i], accuracy }));
  return `<h4>Confusion matrix</h4><div class="charts">
    ${await chartFigure(confusionSpec(confusionCells(p), p.classes, `Confusion matrix — ${run.id}`), `${base}-confusion`, "Rows: true class; columns: predicted class; numbers are image counts, colour is the share of the true class.")}
    ${await chartFigure(perClassSpec(perClass, `Accuracy per class — ${run.id}`), `${base}-per-class`)}
  </div>`;
}

function sampleGrid(run: Run, samples: Sample[], classes: string[], ctx: ReportContext, what: string): string {
  const name = (k: number) => classes[k] ?? `class ${k}`;
  const cells: string[] = [];
  let bad = 0;
  for (const s of samples) {
    const uri = sampleImageDataUri(s.image);
    if (uri instanceof Error) {
      bad++;
      continue;
    }
    const right = s.label === s.predicted;
    const conf = typeof s.confidence === "number" ? ` ${formatPercent(s.confidence, 0)}` : "";
    cells.push(`<figure class="sample ${right ? "right" : "wrong"}">
      <img src="${uri}" width="32" height="32" alt="test image ${escapeHtml(s.index)}: true ${escapeHtml(name(s.label))}, predicted ${escapeHtml(name(s.predicted))}">
      <figcaption><span class="label-pred">${escapeHtml(name(s.predicted))}${conf}</span><br><span class="label-true">${right ? "correct" : `true: ${escapeHtml(name(s.label))}`}</span></figcaption>
    </figure>`);
  }
  if (bad > 0) {
    ctx.problems.push(`run "${run.id}" at ${run.dir}: predictions.json: ${bad} of the ${what} have an unreadable image (expected base64 of 3×32×32 uint8); left out`);
  }
  return cells.length > 0 ? `<div class="samples">${cells.join("")}</div>` : `<p class="note">No ${what} to show.</p>`;
}

export async function runSection(run: Run, ctx: ReportContext): Promise<string> {
  const f = runFacts(run);
  const parts = [
    `<section class="run" id="${ctx.runAnchor(run)}">`,
    `<h3>${runName(run.id)} ${statusBadge(f.status)}</h3>`,
    `<p class="muted">Folder <code>${escapeHtml(run.dir)}</code></p>`,
    factsList(run),
    flagsTable(run),
    await curveCharts(run, ctx),
  ];
  const p = run.predictions;
  if (p) {
    parts.push(await confusionCharts(run, p, ctx));
    parts.push(`<h4>Test images</h4><p class="note">The first ${p.samples.length} test images with the predicted class and its confidence; a red frame marks a mistake.</p>`);
    parts.push(sampleGrid(run, p.samples, p.classes, ctx, "test images"));
    parts.push(`<h4>Most confident mistakes</h4><p class="note">The ${p.worst.length} test images the model got wrong with the highest confidence.</p>`);
    parts.push(sampleGrid(run, p.worst, p.classes, ctx, "worst mistakes"));
  } else {
    parts.push(`<p class="note">No confusion matrix or sample images: predictions.json is missing or unreadable.</p>`);
  }
  parts.push(`</section>`);
  return parts.join("\n");
}

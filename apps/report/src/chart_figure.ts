// Wraps a rendered chart in a <figure> the browser test can find: every chart carries data-chart.
import type { TopLevelSpec } from "vega-lite";
import { escapeHtml } from "./html.ts";
import { renderSvg } from "./render_svg.ts";

export async function chartFigure(spec: TopLevelSpec, name: string, caption?: string): Promise<string> {
  const svg = await renderSvg(spec);
  const title = typeof spec.title === "string" ? spec.title : name;
  return `<figure class="chart" data-chart="${escapeHtml(name)}" role="img" aria-label="${escapeHtml(title)}">${svg}${
    caption ? `<figcaption>${caption}</figcaption>` : ""
  }</figure>`;
}

// The report's stylesheet, inlined into the page. System fonts only (nothing to download); one column on a
// phone, two chart columns from about 900 px; print rules keep figures whole on a PDF page.
export const STYLES = `
:root {
  --fg: #1d2127; --muted: #5b6470; --line: #dde1e6; --bg: #ffffff; --panel: #f6f7f9;
  --accent: #2f5d8c; --good: #1b7f3b; --bad: #b3261e; --warn-bg: #fff6e0; --warn-line: #e7c66b;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; color: var(--fg); background: var(--bg);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
main { max-width: 1120px; margin: 0 auto; padding: 24px 20px 64px; }
h1 { font-size: 1.9rem; line-height: 1.2; margin: 0 0 .25rem; }
h2 { font-size: 1.45rem; margin: 2.5rem 0 .75rem; padding-bottom: .3rem; border-bottom: 2px solid var(--line); }
h3 { font-size: 1.15rem; margin: 1.75rem 0 .5rem; }
h4 { font-size: 1rem; margin: 1.25rem 0 .5rem; }
p { margin: .5rem 0; }
code { font: .9em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--panel);
  padding: 0 .25em; border-radius: 3px; overflow-wrap: anywhere; }
a { color: var(--accent); }
.subtitle, .muted, .note { color: var(--muted); }
.note { font-size: .95rem; }
nav.toc { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: .5rem 1rem; margin: 1rem 0; }
nav.toc ol { margin: .25rem 0; padding-left: 1.25rem; columns: 2 220px; }
nav.toc li { break-inside: avoid; }
.problems { background: var(--warn-bg); border: 1px solid var(--warn-line); border-radius: 8px; padding: .5rem 1rem; margin: 1rem 0; }
.problems h2 { border: 0; margin: .5rem 0; font-size: 1.15rem; }
.problems li { overflow-wrap: anywhere; }
.table-scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; margin: .5rem 0 1rem; max-width: 100%; }
table { border-collapse: collapse; font-size: .9rem; min-width: 100%; }
th, td { padding: .35rem .6rem; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: var(--panel); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.shapes { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .8rem; overflow-wrap: anywhere; }
tr.failed td { background: #fdecea; }
.rank { color: var(--muted); }
td.run-name, .run-id { white-space: nowrap; }
td.chips { min-width: 12rem; }
td.seeds { white-space: nowrap; }
.chip { display: inline-block; white-space: nowrap; font-size: .8rem; background: var(--panel);
  border: 1px solid var(--line); border-radius: 4px; padding: 0 .35em; margin: 1px 0; }
.chip code { background: none; padding: 0; }
.status { display: inline-block; padding: 0 .5em; border-radius: 999px; font-size: .8rem; font-weight: 600;
  background: var(--panel); border: 1px solid var(--line); white-space: nowrap; }
.status.completed { color: var(--good); border-color: #a6d6b4; background: #eef8f1; }
.status.interrupted, .status.no-summary { color: #8a5a00; border-color: var(--warn-line); background: var(--warn-bg); }
.status.diverged, .status.no-records { color: var(--bad); border-color: #efb1ab; background: #fdecea; }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: .5rem; margin: .75rem 0; padding: 0; }
.facts div { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: .4rem .6rem; }
.facts dt { font-size: .75rem; color: var(--muted); text-transform: uppercase; letter-spacing: .03em; }
.facts dd { margin: 0; font-weight: 600; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
dl.flags { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 240px), 1fr)); gap: 0 1.5rem; margin: .5rem 0 1rem; }
dl.flags div { display: flex; justify-content: space-between; gap: 1rem; border-bottom: 1px solid var(--line); padding: .25rem 0; font-size: .9rem; }
dl.flags dt code { background: none; padding: 0; }
dl.flags dd { margin: 0; text-align: right; overflow-wrap: anywhere; font-variant-numeric: tabular-nums; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 420px), 1fr)); gap: 1rem 1.5rem; align-items: start; }
figure.chart { margin: 0; min-width: 0; break-inside: avoid; }
figure.chart svg { display: block; max-width: 100%; height: auto; }
figure.chart figcaption { font-size: .85rem; color: var(--muted); margin-top: .25rem; }
.samples { display: grid; grid-template-columns: repeat(auto-fill, minmax(92px, 1fr)); gap: .6rem; margin: .5rem 0 1rem; }
.sample { margin: 0; border: 2px solid var(--line); border-radius: 6px; padding: 4px; text-align: center; break-inside: avoid; }
.sample img { display: block; width: 100%; max-width: 96px; height: auto; margin: 0 auto; image-rendering: pixelated; }
.sample figcaption { font-size: .75rem; line-height: 1.3; margin-top: 3px; overflow-wrap: anywhere; }
.sample.right { border-color: #8fcca0; }
.sample.wrong { border-color: #e8a19a; }
.sample .label-true { color: var(--muted); }
.sample.wrong .label-pred { color: var(--bad); font-weight: 600; }
.sample.right .label-pred { color: var(--good); font-weight: 600; }
section.run { border-top: 1px solid var(--line); margin-top: 2rem; }
h2 + section.run { border-top: 0; margin-top: 0; }
section.run > h3 { font-size: 1.3rem; display: flex; flex-wrap: wrap; gap: .25rem .75rem; align-items: baseline; }
.comparison { margin-bottom: 2rem; }
.fixed { font-size: .85rem; color: var(--muted); overflow-wrap: anywhere; }
.equation { display: flex; flex-wrap: wrap; align-items: center; justify-content: center; gap: 0 2rem; margin: .6rem 0; }
.equation math[display="block"] { margin: 0; overflow-x: auto; overflow-y: hidden; max-width: 100%; padding: .2rem 0; font-size: 1.1rem; }
.equation .tag { color: var(--muted); font-size: .9rem; }
.equation .tag::before { content: "("; }
.equation .tag::after { content: ")"; }
math { font-family: math, "STIX Two Math", "Latin Modern Math", "Cambria Math", serif; }
mo.sum { font-size: 1.3em; }
.bold { font-weight: bold; }
.why { font-size: .95rem; color: #333; }
ul.measured, p.measured { background: #eef4fa; border-left: 3px solid var(--accent); padding: .4rem .8rem .4rem 1.6rem; margin: .5rem 0 1rem; font-size: .92rem; }
p.measured { padding-left: .8rem; }
ul.measured li { overflow-wrap: anywhere; }
.kind { color: var(--muted); font-size: .85em; }
.pass { color: var(--good); font-weight: 600; }
.fail { color: var(--bad); font-weight: 700; }
footer { margin-top: 3rem; font-size: .85rem; color: var(--muted); border-top: 1px solid var(--line); padding-top: .75rem; }
@media (max-width: 600px) {
  body { font-size: 15px; }
  main { padding: 14px 12px 48px; }
  h1 { font-size: 1.5rem; }
  h2 { font-size: 1.25rem; }
  th, td { padding: .3rem .4rem; }
  .facts { grid-template-columns: repeat(2, minmax(0, 1fr)); }
  .samples { grid-template-columns: repeat(auto-fill, minmax(72px, 1fr)); }
  .equation math[display="block"] { font-size: 1rem; }
}
@media print {
  main { max-width: none; padding: 0; }
  nav.toc { display: none; }
  h2 { break-before: page; }
  h2.first { break-before: auto; }
  section.run { break-before: page; }
  h2 + section.run { break-before: auto; }
  h2, h3, h4, h3 + p, h4 + p, p.fixed { break-after: avoid; }
  table { font-size: .72rem; }
  /* Run names stay whole, so the page width comes from elsewhere: the step of a best accuracy goes under it,
     and cells are padded less. */
  th { white-space: normal; }
  th, td { padding: .3rem .35rem; }
  .at-step { display: block; }
  td.chips { min-width: 0; }
  .table-scroll { overflow: visible; }
  /* A long table flows on from under its heading, breaking between rows (the header row repeats), instead of
     jumping whole to the next page and leaving the first one nearly blank. */
  tr, figure.chart, .sample, .facts { break-inside: avoid; }
  thead { display: table-header-group; }
  a { color: inherit; text-decoration: none; }
}
`;

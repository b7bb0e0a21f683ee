// The HTML document around the sections: head with inline styles and a strict content policy (the page can
// load nothing from anywhere), title, contents, problems, footer.
import { escapeHtml } from "./html.ts";
import { STYLES } from "./styles.ts";

export interface PageSection {
  id: string;
  title: string;
  html: string;
}

export interface PageInput {
  title: string;
  subtitle: string;
  problems: string[];
  sections: PageSection[];
  footer: string;
}

/** Images are data: URIs and styles inline; everything else (scripts, fonts, fetches) is refused. */
const CONTENT_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'";

export function renderPage(input: PageInput): string {
  const toc = input.sections.map((s) => `<li><a href="#${s.id}">${escapeHtml(s.title)}</a></li>`).join("");
  const problems = input.problems.length === 0 ? "" : `<aside class="problems" role="alert" id="problems">
    <h2 class="first">Problems reading the runs (${input.problems.length})</h2>
    <p>The report below is built from everything that could be read.</p>
    <ul>${input.problems.map((p) => `<li>${escapeHtml(p)}</li>`).join("")}</ul></aside>`;
  const sections = input.sections.map((s, i) =>
    `<section id="${s.id}"><h2${i === 0 ? ' class="first"' : ""}>${escapeHtml(s.title)}</h2>\n${s.html}\n</section>`
  ).join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${CONTENT_POLICY}">
<title>${escapeHtml(input.title)}</title>
<style>${STYLES}</style>
</head>
<body>
<main>
<header>
<h1>${escapeHtml(input.title)}</h1>
<p class="subtitle">${input.subtitle}</p>
</header>
<nav class="toc" aria-label="Contents"><strong>Contents</strong><ol>${toc}</ol></nav>
${problems}
${sections}
<footer>${input.footer}</footer>
</main>
</body>
</html>
`;
}

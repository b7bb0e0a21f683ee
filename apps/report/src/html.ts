// Escaping for text that comes from run records: names, flags and class labels are data, never markup.

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** A run's name in the page, kept on one line: "cnn-augment-s42" must not break at its hyphens. */
export function runName(id: string): string {
  return `<span class="run-id">${escapeHtml(id)}</span>`;
}

/** A slug usable as an element id and URL fragment. */
export function slug(text: string): string {
  const s = text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
  return s === "" ? "x" : s;
}

/** Makes ids unique within one document by numbering repeats. */
export class IdAllocator {
  #used = new Set<string>();

  next(text: string): string {
    const base = slug(text);
    let id = base;
    for (let n = 2; this.#used.has(id); n++) id = `${base}-${n}`;
    this.#used.add(id);
    return id;
  }
}

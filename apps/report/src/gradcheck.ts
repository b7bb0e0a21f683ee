// Reads the output of `gradcheck --json` (format in docs/RUN_RECORDS.md).
import { readFile } from "node:fs/promises";
import type { GradcheckResult } from "./types.ts";

export interface GradcheckReport {
  results: GradcheckResult[];
}

export interface ParsedGradcheck {
  results: GradcheckResult[];
  problems: string[];
}

/** Validates parsed gradcheck output; entries that lack a name or a numeric error are reported and left out. */
export function checkGradcheck(value: unknown, source: string): ParsedGradcheck {
  const problems: string[] = [];
  const list = (value as { results?: unknown } | null)?.results;
  if (!Array.isArray(list)) {
    return { results: [], problems: [`gradcheck results ${source}: expected { "results": [...] }`] };
  }
  const results: GradcheckResult[] = [];
  list.forEach((entry, i) => {
    const e = entry as Partial<GradcheckResult> | null;
    if (!e || typeof e.name !== "string" || typeof e.max_rel_error !== "number") {
      problems.push(`gradcheck results ${source}: entry ${i} lacks "name" or a numeric "max_rel_error"; skipped`);
      return;
    }
    results.push({
      name: e.name,
      kind: typeof e.kind === "string" ? e.kind : "op",
      shapes: e.shapes,
      max_rel_error: e.max_rel_error,
      tolerance: typeof e.tolerance === "number" ? e.tolerance : NaN,
      pass: e.pass === true,
    });
  });
  return { results, problems };
}

/** Reads a gradcheck JSON file; a missing or malformed file becomes a problem message, not an exception. */
export async function readGradcheck(path: string): Promise<ParsedGradcheck> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as { code?: string }).code;
    return { results: [], problems: [`gradcheck results ${path}: ${code === "ENOENT" ? "file is missing" : `could not be read (${code})`}`] };
  }
  try {
    return checkGradcheck(JSON.parse(text), path);
  } catch (error) {
    return { results: [], problems: [`gradcheck results ${path}: not valid JSON (${(error as Error).message})`] };
  }
}

// Sums vitest's JSON report and the Deno tests' counts into the plain closing line `N passed, N failed, N skipped`,
// and fails (exit 1) when a suite that must run did not:
//  - a test skipped without an allowed reason (.ci/allowed-skips.mjs) is named and counted as failed, not skipped;
//  - a rule in .ci/allowed-skips.mjs that names no test of a file that ran is stale: named, and one failure;
//  - a test file that neither runner ran (vitest: `*.test.ts`, `*.spec.ts`, `*.vitest.ts`; Deno: `*_test.ts`, as
//    its JUnit report shows) is named and counted as one failure.
// Usage: node .ci/summary.mjs VITEST_JSON[,VITEST_JSON…] [DENO_COUNTS [DENO_JUNIT_XML]]
// (several vitest reports: `pnpm test`'s and the examples' own run)
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { allowedSkips } from "./allowed-skips.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const [vitestJson, denoCounts, denoJunit] = process.argv.slice(2);
let passed = 0, failed = 0, skipped = 0;
const problems = [];

/** Skipped tests, as { runner, file (relative to the root), name }. */
const skips = [];
/** Test files each runner reported, relative to the root. */
const ran = { vitest: new Set(), deno: new Set() };
/** Every reported test, as `file > full name`. */
const names = new Set();
const readText = (path) => (path && existsSync(path) ? readFileSync(path, "utf8") : "");

for (const vitestReport of (vitestJson ?? "").split(",")) {
  const vitestText = readText(vitestReport);
  if (!vitestText.trim()) {
    failed += 1;
    problems.push(`no vitest report was written${vitestReport ? ` (${vitestReport})` : ""}`);
    continue;
  }
  const r = JSON.parse(vitestText);
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests + r.numTodoTests;
  if (r.numFailedTestSuites > 0 && r.numFailedTests === 0) failed += r.numFailedTestSuites;
  for (const file of r.testResults) {
    const path = relative(root, file.name);
    ran.vitest.add(path);
    for (const test of file.assertionResults) {
      names.add(`${path} > ${test.fullName}`);
      if (test.status !== "passed" && test.status !== "failed") skips.push({ runner: "vitest", file: path, name: test.fullName });
    }
  }
}

let denoFailed = false;
const countsText = readText(denoCounts);
if (countsText.trim()) {
  const [p, f, s] = countsText.trim().split(/\s+/).map(Number);
  passed += p; failed += f; skipped += s;
  denoFailed = f > 0;
}
if (denoJunit) {
  const xml = readText(denoJunit);
  if (xml.trim()) {
    const unescape = (text) =>
      text.replace(/&(lt|gt|quot|apos|amp);/g, (_, e) => ({ lt: "<", gt: ">", quot: '"', apos: "'", amp: "&" })[e]);
    for (const [, attributes, body] of xml.matchAll(/<testcase\b([^>]*?)(?:\/>|>([\s\S]*?)<\/testcase>)/g)) {
      const attribute = (key) => unescape(attributes.match(new RegExp(`\\b${key}="([^"]*)"`))?.[1] ?? "");
      const file = attribute("classname").replace(/^\.\//, "");
      ran.deno.add(file);
      names.add(`${file} > ${attribute("name")}`);
      if (/<skipped\b/.test(body ?? "")) skips.push({ runner: "deno", file, name: attribute("name") });
    }
  } else if (!denoFailed) {
    // A run that did not finish has already been counted as a failure by .ci/deno-tests.
    failed += 1;
    problems.push("no Deno JUnit report was written");
  }
}

// Every skip needs a rule that allows it here.
const rules = allowedSkips(root);
const allowedNotes = new Map();
const notAllowed = [];
for (const skip of skips) {
  const matching = rules.filter((rule) => rule.file === skip.file && skip.name.startsWith(rule.name));
  const allowing = matching.find((rule) => rule.allowed);
  if (allowing) allowedNotes.set(`${skip.file}: ${allowing.reason}`, (allowedNotes.get(`${skip.file}: ${allowing.reason}`) ?? 0) + 1);
  else notAllowed.push(skip);
}
// A rule that names no test that ran is stale (a renamed test): it could hide nothing, or the wrong thing later.
for (const rule of rules) {
  if (!ran.vitest.has(rule.file) && !ran.deno.has(rule.file)) continue;
  if (![...names].some((name) => name.startsWith(`${rule.file} > ${rule.name}`))) {
    problems.push(`.ci/allowed-skips.mjs: no test in ${rule.file} is named "${rule.name}…"; update the rule`);
    failed += 1;
  }
}
for (const [note, count] of allowedNotes) console.log(`allowed skip (${count} test${count === 1 ? "" : "s"}): ${note}`);
if (notAllowed.length > 0) {
  problems.push(`${notAllowed.length} test${notAllowed.length === 1 ? " was" : "s were"} skipped that must run ` +
    "(a skip is allowed only as listed in .ci/allowed-skips.mjs):");
  for (const skip of notAllowed) problems.push(`  skipped (${skip.runner}): ${skip.file} > ${skip.name}`);
  skipped -= notAllowed.length;
  failed += notAllowed.length;
}

// Every test file must have been run by its runner.
const ignoredFolders = new Set(["node_modules", ".git", "dist", ".turbo"]);
function* testFiles(folder) {
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!ignoredFolders.has(entry.name)) yield* testFiles(join(folder, entry.name));
    } else if (entry.isFile()) {
      yield relative(root, join(folder, entry.name));
    }
  }
}
const denoFile = /_test\.(ts|tsx|mts|js|jsx|mjs)$/;
const vitestFile = /\.(test|spec|vitest)\.(ts|tsx|mts|js|jsx|mjs)$/;
const checkDeno = denoJunit !== undefined && ran.deno.size > 0;
for (const file of testFiles(root)) {
  const runner = denoFile.test(file) ? "deno" : vitestFile.test(file) ? "vitest" : null;
  if (runner === null || (runner === "deno" && !checkDeno) || (runner === "vitest" && ran.vitest.size === 0)) continue;
  if (!ran[runner].has(file)) {
    problems.push(`not run: ${file} (${runner === "deno" ? "Deno's JUnit report" : "vitest's report"} does not list it)`);
    failed += 1;
  }
}

for (const problem of problems) console.error(problem);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exitCode = notAllowed.length > 0 || problems.length > 0 ? 1 : 0;

// Sums vitest's JSON report (and an optional "passed failed skipped" line from the Deno tests) into the
// plain closing line `N passed, N failed, N skipped`.
import { existsSync, readFileSync } from "node:fs";

const [vitestJson, denoCounts] = process.argv.slice(2);
let passed = 0, failed = 0, skipped = 0;
if (vitestJson && existsSync(vitestJson) && readFileSync(vitestJson, "utf8").trim()) {
  const r = JSON.parse(readFileSync(vitestJson, "utf8"));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests + r.numTodoTests;
  if (r.numFailedTestSuites > 0 && r.numFailedTests === 0) failed += r.numFailedTestSuites;
} else {
  failed += 1;
  console.error("no vitest report was written");
}
if (denoCounts && existsSync(denoCounts)) {
  const [p, f, s] = readFileSync(denoCounts, "utf8").trim().split(/\s+/).map(Number);
  passed += p; failed += f; skipped += s;
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);

// The only tests CI lets skip, each with the condition under which it may. Every other skip — a vitest
// `skipIf`/`skip`/`todo`, a Deno `ignore` — fails CI (.ci/summary.mjs), because CI provides what the optional
// suites need: CIFAR-10 in ../shared/data, Deno (the CLI and report subprocess tests), Chromium (the report in a
// browser), python3-torch (the nn state-dict round trip through PyTorch) and Mesa's software Vulkan driver (the
// WebGPU tests under Deno); .ci/apt-packages lists the system packages.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

/** The shared data folder the tests look for: $BACKPROP_SHARED_DATA, or `../shared/data` beside the repository. */
export function sharedDataFolder(repoRoot) {
  return process.env.BACKPROP_SHARED_DATA ?? resolve(repoRoot, "../shared/data");
}

/**
 * Each rule: `file` (relative to the repository root), `name` (the test's full name — its describe blocks and
 * title, space-separated — starts with it), `allowed` (whether the skip is allowed on this machine) and `reason`
 * (printed). A skip is allowed when any rule that matches it allows it.
 */
export function allowedSkips(repoRoot) {
  const data = sharedDataFolder(repoRoot);
  const noMini = !existsSync(join(data, "cifar-10-mini.tar.gz"));
  const noFull = !existsSync(join(data, "cifar-10-batches-bin", "data_batch_1.bin"));
  const mini = `${join(data, "cifar-10-mini.tar.gz")} is absent`;
  const full = `${join(data, "cifar-10-batches-bin")} is absent`;
  return [
    { file: "packages/datasets/test/full.test.ts", name: "the full data set", allowed: noFull, reason: full },
    { file: "packages/datasets/test/mini.test.ts", name: "the mini archive", allowed: noMini, reason: mini },
    {
      file: "packages/datasets/test/mini.test.ts",
      name: "the mini archive extraction each unpacked file is the first 1,000 records of the full file",
      allowed: noFull,
      reason: full,
    },
    { file: "apps/cli/test/eval.test.ts", name: "eval on the mini archive", allowed: noMini, reason: mini },
    { file: "apps/cli/test/train.test.ts", name: "train on the mini archive", allowed: noMini, reason: mini },
    { file: "apps/cli/test/signal.test.ts", name: "Ctrl-C under Deno", allowed: noMini, reason: mini },
  ];
}

import { defineConfig } from "vitest/config";

// One vitest run over every workspace project, so `pnpm test` prints a single summary.
export default defineConfig({
  test: {
    projects: ["packages/*", "apps/*", "bench"],
  },
});

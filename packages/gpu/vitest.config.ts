import { defineProject } from "vitest/config";

// The WebGPU tests (`test/*_test.ts`) run under Deno; vitest runs only the Node-side checks.
export default defineProject({
  test: { name: "gpu", include: ["test/**/*.vitest.ts"] },
});

import { defineProject } from "vitest/config";

export default defineProject({
  test: { name: "autograd", include: ["test/**/*.test.ts"] },
});

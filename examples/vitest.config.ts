import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// The examples' own run (`pnpm examples`), apart from `pnpm test`: it builds and packs every package first.
export default defineConfig({
  test: { name: "examples", include: ["examples.test.ts"], root: fileURLToPath(new URL(".", import.meta.url)) },
});

import { defineConfig } from "tsup";

export default defineConfig({
  // Named entries keep dist/ mirroring src/: dist/mod.js and dist/testing/mod.js. Shared code goes to a common
  // chunk, so the testing entry sees the same backend registry and scopes as the main one.
  entry: { mod: "src/mod.ts", "testing/mod": "src/testing/mod.ts" },
  format: ["esm"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "es2022",
});

/**
 * A bundler that honours `"sideEffects": false` (esbuild here; Rollup, webpack and Vite do the same) keeps every
 * behaviour of the package: nothing may depend on a module's import side effect, such as a backend registering
 * itself.
 */
import { build } from "esbuild";
import { expect, test } from "vitest";

const packageRoot = decodeURIComponent(new URL("..", import.meta.url).pathname);

test("an esbuild bundle of `tensor` computes on the cpu device", async () => {
  const result = await build({
    stdin: {
      contents: `import { listBackends, tensor } from "./src/mod.ts";
        export const devices = listBackends();
        const a = tensor([[1, 2], [3, 4]], { dtype: "float32" });
        export const values = Array.from(await a.matmul(a.T).add(1).data());`,
      resolveDir: packageRoot,
      loader: "ts",
    },
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    write: false,
    logLevel: "silent",
  });
  // esbuild warns when it drops an import because the package says it has no side effects.
  expect(result.warnings.map((w) => w.text)).toEqual([]);
  // Run by the runtime itself, from a data: URL, so nothing but the bundle's own code is loaded.
  const bundled = await import(/* @vite-ignore */ `data:text/javascript,${encodeURIComponent(result.outputFiles[0].text)}`);
  expect(bundled.devices).toEqual(["cpu"]);
  expect(bundled.values).toEqual([6, 12, 12, 26]);
}, 60_000);

// The package.json a library package is packed with. In the workspace its "exports" name the TypeScript sources
// (Deno, vitest and tsc read them directly) and its dependencies on sibling packages are "workspace:^". npm
// ignores publishConfig.exports and does not replace workspace ranges, so an npm-packed tarball would hand Node
// .ts files and a range it cannot install.
//
//   node ../../scripts/pack_manifest.mjs prepack    # package.json as published; the workspace form is kept aside
//   node ../../scripts/pack_manifest.mjs postpack   # the workspace form back
//
// Run from the package's folder, as npm, pnpm and yarn run "prepack"/"postpack". Plain Node (no TypeScript): it
// runs before anything is built.
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const manifest = "package.json";
// Beside package.json, not in "files": never packed.
const kept = "package.json.workspace";
const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** name → version of every package in packages/. */
function workspaceVersions() {
  const versions = new Map();
  for (const dir of readdirSync(join(root, "packages"))) {
    const file = join(root, "packages", dir, "package.json");
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, "utf8"));
    versions.set(pkg.name, pkg.version);
  }
  return versions;
}

/** The published form of a workspace package.json: exports from publishConfig, workspace ranges resolved. */
function publishedManifest(pkg, versions) {
  const out = structuredClone(pkg);
  const { exports, ...restOfPublishConfig } = out.publishConfig ?? {};
  if (!exports) throw new Error(`${pkg.name}: publishConfig.exports is missing; it names the built files to publish`);
  out.exports = exports;
  if (Object.keys(restOfPublishConfig).length > 0) out.publishConfig = restOfPublishConfig;
  else delete out.publishConfig;
  for (const field of ["dependencies", "peerDependencies", "optionalDependencies"]) {
    for (const [name, range] of Object.entries(out[field] ?? {})) {
      if (!range.startsWith("workspace:")) continue;
      const version = versions.get(name);
      if (!version) throw new Error(`${pkg.name}: ${field}.${name} is "${range}" but no package in packages/ has that name`);
      const spec = range.slice("workspace:".length);
      // pnpm's rules: "^" and "~" keep the operator, "*" is the exact version, anything else is a range already.
      out[field][name] = spec === "^" || spec === "~" ? spec + version : spec === "*" ? version : spec;
    }
  }
  return out;
}

function prepack() {
  // A pack that failed after prepack leaves the workspace form aside: restore it before starting again.
  if (existsSync(kept)) renameSync(kept, manifest);
  const text = readFileSync(manifest, "utf8");
  const published = publishedManifest(JSON.parse(text), workspaceVersions());
  writeFileSync(kept, text);
  writeFileSync(manifest, JSON.stringify(published, null, 2) + "\n");
}

function postpack() {
  if (!existsSync(kept)) throw new Error(`postpack: ${kept} is missing, so package.json cannot be restored (did prepack run?)`);
  renameSync(kept, manifest);
}

const step = process.argv[2];
if (step === "prepack") prepack();
else if (step === "postpack") postpack();
else {
  console.error(`usage: node pack_manifest.mjs prepack|postpack (got ${step ?? "nothing"})`);
  process.exit(2);
}

// Which BLAS each benchmark peer runs on, classified as the benchmark classifies it; exits 1 when one is not on
// OpenBLAS. bench/setup.sh ends with it.
//
//   deno run -A bench/check_peers.ts
import { blasKind, PEER_PROBES, probeArgs } from "./blas.ts";

const benchDir = new URL(".", import.meta.url).pathname;
let ok = true;
for (const { peer, code } of PEER_PROBES) {
  const r = await new Deno.Command("/usr/bin/python3", { args: probeArgs(benchDir, code), stdout: "piped", stderr: "piped" })
    .output()
    .catch((e: Error) => ({ success: false, stdout: new Uint8Array(), stderr: new TextEncoder().encode(e.message) }));
  const text = new TextDecoder().decode(r.success ? r.stdout : r.stderr).trim();
  const kind = r.success ? blasKind(text) : "not available";
  console.log(`${peer}: ${kind} (${r.success ? text : text.split("\n").pop()})`);
  if (kind !== "OpenBLAS") ok = false;
}
if (!ok) {
  console.error(
    "check_peers: a peer is not on OpenBLAS. Its libblas.so.3 is chosen by update-alternatives: " +
      "`update-alternatives --display libblas.so.3-$(gcc -dumpmachine)` shows the choice, `--auto` puts OpenBLAS back " +
      "once libopenblas0-pthread is installed.",
  );
}
Deno.exit(ok ? 0 : 1);

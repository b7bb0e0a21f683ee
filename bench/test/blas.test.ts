import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { blasKind, blasLabel, PEER_PROBES, probeArgs, referenceBlasCaveat } from "../blas.ts";

describe("blasLabel", () => {
  it("names the library behind libblas.so.3, after threadpoolctl's summary where there is one", () => {
    const libs = "/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3, /usr/lib/x86_64-linux-gnu/openblas-pthread/liblapack.so.3";
    expect(blasLabel(libs)).toBe("/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3");
    expect(blasLabel(`openblas 0.3.21 (SkylakeX, 2 threads): ${libs}`)).toBe(
      "openblas 0.3.21 (SkylakeX, 2 threads); /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3",
    );
    expect(blasLabel("no BLAS library mapped")).toBe("no BLAS library mapped");
  });
});

describe("blasKind", () => {
  it("tells Debian's reference BLAS from OpenBLAS and the other optimized ones, by the paths a process mapped", () => {
    const cases: [string, string][] = [
      ["/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0", "reference"],
      ["/usr/lib/aarch64-linux-gnu/blas/libblas.so.3", "reference"],
      ["/usr/lib/libblas.so.3", "reference"],
      [
        "/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3, /usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so",
        "OpenBLAS",
      ],
      ["/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3", "OpenBLAS"],
      ["openblas 0.3.21 (SkylakeX, 2 threads)", "OpenBLAS"], // threadpoolctl's summary alone
      // libblas.so.3 on the reference BLAS, liblapack.so.3 on OpenBLAS: libopenblas is mapped, the products are not its
      [
        "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0, /usr/lib/x86_64-linux-gnu/openblas-pthread/liblapack.so.3, " +
        "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so",
        "reference",
      ],
      ["openblas 0.3.21 (SkylakeX, 2 threads): /usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0", "reference"],
      ["openblas 0.3.21 (SkylakeX, 2 threads): /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3", "OpenBLAS"],
      ["/usr/lib/x86_64-linux-gnu/blis-pthread/libblas.so.3", "other optimized"],
      ["/opt/intel/oneapi/mkl/lib/libmkl_rt.so.2", "other optimized"],
      ["no BLAS library mapped", "unknown"],
      ["unknown", "unknown"],
      ["/usr/lib/x86_64-linux-gnu/libcblas.so.3", "unknown"],
    ];
    for (const [report, kind] of cases) expect([report, blasKind(report)]).toEqual([report, kind]);
  });

  it("gives a caveat, naming the peer, the library and the fix, for the reference BLAS only", () => {
    const caveat = referenceBlasCaveat("PyTorch", "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0");
    expect(caveat).toMatch(/^PyTorch's libblas\.so\.3 is the reference BLAS \(\/usr\/lib\/x86_64-linux-gnu\/blas\/libblas\.so\.3\.11\.0\)/);
    expect(caveat).toContain("`bash bench/setup.sh` installs OpenBLAS");
    const mixed = "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0, /usr/lib/x86_64-linux-gnu/openblas-pthread/liblapack.so.3";
    expect(referenceBlasCaveat("NumPy", mixed)).toContain("(/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0)");
    expect(referenceBlasCaveat("NumPy", "openblas 0.3.21 (SkylakeX, 2 threads)")).toBeUndefined();
    expect(referenceBlasCaveat("NumPy", "unknown")).toBeUndefined();
  });
});

// What the peers report must follow the machine's choice of libblas.so.3 (update-alternatives): the reference
// BLAS where only python3-torch is installed, OpenBLAS after bench/setup.sh.
const PYTHON = "/usr/bin/python3";
const alternative = existsSync("/etc/alternatives")
  ? readdirSync("/etc/alternatives").find((name) => name.startsWith("libblas.so.3-"))
  : undefined;
const hasModule = (module: string) => {
  try {
    execFileSync(PYTHON, ["-c", `import ${module}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};
const bench = fileURLToPath(new URL("..", import.meta.url));
for (const { peer, module, code } of PEER_PROBES) {
  const skip = !alternative ? "no libblas.so.3 alternative (not Debian)" : !hasModule(module) ? `no ${PYTHON} with ${module}` : "";
  if (skip) console.log(`skipping the ${peer} BLAS probe: ${skip}`);
  it.skipIf(skip !== "")(`${peer}'s BLAS report names the library update-alternatives chose for libblas.so.3`, () => {
    const chosen = realpathSync(`/etc/alternatives/${alternative}`);
    const report = execFileSync(PYTHON, probeArgs(bench, code), { encoding: "utf8" }).trim();
    expect(blasKind(report)).toBe(blasKind(chosen));
    expect(blasKind(report)).not.toBe("unknown");
  }, 60_000);
}

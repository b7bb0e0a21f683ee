// Which BLAS a peer's process runs on, from what it reports (the shared libraries it mapped, or threadpoolctl's
// summary). Debian's python3-torch and python3-numpy link libblas.so.3, and update-alternatives decides whether
// that is the reference BLAS (Debian libblas3, unoptimized Fortran loops) or OpenBLAS (libopenblas0-pthread).
// On the reference BLAS PyTorch's W1 step took 57 ms against 2.4 ms on OpenBLAS (docs/PERFORMANCE.md), so a
// ratio against it says nothing about backprop: the benchmark prints the times but no ratio.

export type BlasKind = "OpenBLAS" | "reference" | "other optimized" | "unknown";

/**
 * Classifies a peer's BLAS report: the shared libraries its process mapped, joined by ", " (optionally after a
 * threadpoolctl summary such as "openblas 0.3.21 (SkylakeX, 2 threads): …"). The library behind libblas.so.3 decides,
 * not whatever else is mapped: with libblas.so.3 on the reference BLAS and liblapack.so.3 on OpenBLAS, libopenblas is
 * mapped too, but every product runs the reference loops.
 */
export function blasKind(report: string): BlasKind {
  const libblas = libblasOf(report);
  const kindOf = (text: string): BlasKind | undefined => {
    const t = text.toLowerCase();
    if (t.includes("openblas")) return "OpenBLAS";
    if (/mkl|blis|atlas|flexiblas|accelerate/.test(t)) return "other optimized";
    return undefined;
  };
  // Debian's reference BLAS is /usr/lib/<triplet>/blas/libblas.so.3[.x.y]; an optimized provider lives in its own
  // directory (openblas-pthread/, blis-openmp/, …).
  if (libblas) return kindOf(libblas) ?? "reference";
  return kindOf(report) ?? "unknown";
}

/** The path in a BLAS report that provides libblas.so.3, or undefined. */
export function libblasOf(report: string): string | undefined {
  return report.split(/,\s*|:\s+/).map((part) => part.trim()).find((part) => /(^|\/)libblas\.so/.test(part));
}

/** A short name for a BLAS report: threadpoolctl's summary where there is one, and the library behind libblas.so.3. */
export function blasLabel(report: string): string {
  const at = report.indexOf(": /");
  const summary = at >= 0 ? report.slice(0, at) : "";
  return [summary, libblasOf(report) ?? (at >= 0 ? report.slice(at + 2) : report)].filter(Boolean).join("; ");
}

/** Why no ratio is printed against `peer`, or undefined when its BLAS is a fair peer (or cannot be told). */
export function referenceBlasCaveat(peer: string, report: string): string | undefined {
  return blasKind(report) === "reference"
    ? `${peer}'s libblas.so.3 is the reference BLAS (${libblasOf(report)}): its times are printed, no ratio against ` +
      "them; `bash bench/setup.sh` installs OpenBLAS (Debian libopenblas0-pthread)"
    : undefined;
}

/**
 * How each peer reports its BLAS: Python code run with bench/ on sys.path by /usr/bin/python3 (Debian's torch and
 * numpy), printing the report the benchmark itself gets.
 */
export const PEER_PROBES = [
  { peer: "PyTorch", module: "torch", code: "import torch_bench; print(torch_bench.blas())" },
  { peer: "NumPy", module: "numpy", code: "import numpy_mlp; print(numpy_mlp.blas_name())" },
] as const;

/** The command line that runs `code` of a probe, with bench/ (the directory `benchDir`) on Python's path. */
export function probeArgs(benchDir: string, code: string): string[] {
  return ["-c", `import sys; sys.path.insert(0, ${JSON.stringify(benchDir)}); ${code}`];
}

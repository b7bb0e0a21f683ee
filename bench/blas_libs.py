"""The BLAS libraries this process has mapped, as bench/blas.ts reads them. Debian's torch and numpy link
libblas.so.3, whose provider update-alternatives chooses (the reference BLAS or OpenBLAS); call this after a
product, once the library is loaded."""


def mapped_blas_libraries():
    try:
        with open("/proc/self/maps") as maps:
            libs = sorted({line.split()[-1] for line in maps if "blas" in line.lower() and ".so" in line})
        return ", ".join(libs) or "no BLAS library mapped"
    except OSError:
        return "unknown"

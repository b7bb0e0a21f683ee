#!/usr/bin/env bash
# The benchmark's peers, installed here and never as dependencies of the packages:
# - PyTorch and NumPy from Debian, on OpenBLAS. Debian's torch and numpy link libblas.so.3, which stays the
#   unoptimized reference BLAS until an optimized provider is installed: the benchmark would then compare
#   against a PyTorch more than 20× slower than it is (it refuses to print those ratios).
# - TensorFlow.js (cpu, wasm): dev dependencies of bench/package.json, installed by pnpm.
#
#   bash bench/setup.sh        then        pnpm bench
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v pnpm >/dev/null; then
  npm install -g "pnpm@$(node -p "require('./package.json').packageManager.split('@')[1]")" >/dev/null
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "== Debian: python3-torch python3-numpy python3-threadpoolctl libopenblas0-pthread"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-torch python3-numpy python3-threadpoolctl libopenblas0-pthread >/dev/null

echo "== pnpm install (TensorFlow.js)"
pnpm install --frozen-lockfile >/dev/null

# The same check the benchmark makes: which BLAS each peer's process mapped.
echo "== the BLAS each peer runs on"
status=0
for peer in torch numpy; do
  libs=$(/usr/bin/python3 - "$peer" <<'PY'
import sys
if sys.argv[1] == "torch":
    import torch
    torch.mm(torch.ones(8, 8), torch.ones(8, 8))
else:
    import numpy as np
    np.ones((8, 8), dtype=np.float32) @ np.ones((8, 8), dtype=np.float32)
with open("/proc/self/maps") as maps:
    print(", ".join(sorted({line.split()[-1] for line in maps if "blas" in line.lower() and ".so" in line})))
PY
)
  echo "$peer: $libs"
  # The provider of libblas.so.3 decides (libopenblas may be mapped for LAPACK alone): as bench/blas.ts reads it.
  libblas=$(tr ',' '\n' <<<"$libs" | grep -E '(^|/)libblas\.so' | head -n 1 || true)
  case "$libblas" in
    *openblas*) ;;
    *)
      echo "setup: $peer's libblas.so.3 is not OpenBLAS (found: ${libblas:-none in: ${libs:-no BLAS library}}). It is chosen by" \
        "update-alternatives; 'update-alternatives --display libblas.so.3-$(gcc -dumpmachine 2>/dev/null || echo '<triplet>')'" \
        "shows the choice, and --auto puts OpenBLAS back." >&2
      status=1
      ;;
  esac
done
exit $status

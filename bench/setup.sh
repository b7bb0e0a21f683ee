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

echo "== the BLAS each peer runs on"
node_modules/.bin/deno run -A bench/check_peers.ts

#!/usr/bin/env bash
# install-deps.sh - installs the Debian packages perfsweep needs, only those missing.
# Usage: scripts/install-deps.sh [--bench]   (--bench adds the peers the benchmarks compare with)
set -euo pipefail

pkgs=(build-essential cmake pkg-config git libunwind-dev libdw-dev libelf-dev libjansson-dev
      libcriterion-dev libjemalloc-dev libjemalloc2 libpq-dev postgresql gnuplot-nox zlib1g-dev libzstd-dev
      chromium protobuf-compiler heaptrack nodejs)  # the last four: tests that read our outputs independently
if [ "${1:-}" = "--bench" ]; then
  pkgs+=(heaptrack hyperfine linux-perf valgrind google-perftools libgoogle-perftools-dev)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 4; }
  SUDO=sudo
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

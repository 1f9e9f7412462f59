#!/usr/bin/env bash
# test.sh - the README's test command: installs what is missing, builds, runs every test
# (unit and integration, on the real binaries), then the unit tests again under ASan+UBSan.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

scripts/install-deps.sh
scripts/build.sh "$root/build"

status=0
echo "== tests (release build) =="
(cd build && ctest --output-on-failure -V --timeout 600) || status=1

echo "== unit tests under ASan+UBSan =="
scripts/build.sh "$root/build-asan" -DPERFSWEEP_SANITIZE=ON
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
   ctest -L unit --output-on-failure -V --timeout 600) || status=1

exit $status

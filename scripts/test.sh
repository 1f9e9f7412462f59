#!/usr/bin/env bash
# test.sh - the README's test command: installs what is missing, builds, starts a throwaway
# PostgreSQL, runs every test (unit and integration, on the real binaries), then the unit tests
# again under ASan+UBSan.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

scripts/install-deps.sh
scripts/build.sh "$root/build"

if [ -x scripts/pg-start.sh ]; then
  eval "$(scripts/pg-start.sh)"
  trap 'scripts/pg-stop.sh "$PERFSWEEP_PG_DIR" >/dev/null 2>&1 || true' EXIT
fi

status=0
echo "== tests (release build) =="
(cd build && ctest --output-on-failure -V --timeout 600) || status=1

echo "== unit tests under ASan+UBSan =="
scripts/build.sh "$root/build-asan" -DPERFSWEEP_SANITIZE=ON
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
   ctest -L unit --output-on-failure -V --timeout 600) || status=1

exit $status

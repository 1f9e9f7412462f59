#!/usr/bin/env bash
# pg-stop.sh - stops and removes a throwaway cluster started by scripts/pg-start.sh.
# Usage: scripts/pg-stop.sh [DIR]     (default: $PERFSWEEP_PG_DIR)
# Idempotent: a folder already gone is not an error. It refuses to delete a folder that
# pg-start.sh did not create (no .perfsweep-pg marker inside).
set -euo pipefail

die() { echo "pg-stop.sh: $*" >&2; exit "${2:-3}"; }

dir=${1:-${PERFSWEEP_PG_DIR:-}}
[ -n "$dir" ] || die "no cluster named: pass its folder (printed by pg-start.sh as PERFSWEEP_PG_DIR) or set PERFSWEEP_PG_DIR."
if [ ! -e "$dir" ]; then
  echo "pg-stop.sh: $dir is already gone; nothing to stop." >&2
  exit 0
fi
[ -f "$dir/.perfsweep-pg" ] ||
  die "$dir was not created by pg-start.sh (no .perfsweep-pg marker); refusing to delete it."

pgbin=${PERFSWEEP_PG_BIN:-}
if [ -z "$pgbin" ]; then
  for v in 15 16 17 14 13; do
    if [ -x "/usr/lib/postgresql/$v/bin/pg_ctl" ]; then pgbin=/usr/lib/postgresql/$v/bin; break; fi
  done
fi

if [ -f "$dir/data/postmaster.pid" ] && [ -n "$pgbin" ]; then
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$pgbin/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  else
    "$pgbin/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
fi
# A postmaster that survived pg_ctl (e.g. binaries missing) is killed by its own pid file.
if [ -f "$dir/data/postmaster.pid" ]; then
  pid=$(head -n 1 "$dir/data/postmaster.pid")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -QUIT "$pid" 2>/dev/null || true
    sleep 0.5
  fi
fi
rm -rf "$dir"
echo "pg-stop.sh: stopped and removed $dir" >&2

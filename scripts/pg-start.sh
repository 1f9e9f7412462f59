#!/usr/bin/env bash
# pg-start.sh - starts a throwaway PostgreSQL 15 cluster for the tests and the benchmarks:
# initdb into a new temporary folder owned by an unprivileged user, loopback TCP and a private
# Unix socket only, a free port, one database. Prints shell lines to eval, nothing else on stdout:
#   eval "$(scripts/pg-start.sh)"     # sets PERFSWEEP_TEST_DSN, PERFSWEEP_TEST_PW_DSN, PERFSWEEP_PG_DIR
# Stop and remove it with scripts/pg-stop.sh [DIR]. Running it again while the cluster named by
# $PERFSWEEP_PG_DIR is up reprints its lines instead of starting a second one.
set -euo pipefail

die() { echo "pg-start.sh: $*" >&2; exit 4; }

pgbin=${PERFSWEEP_PG_BIN:-}
if [ -z "$pgbin" ]; then
  for v in 15 16 17 14 13; do
    if [ -x "/usr/lib/postgresql/$v/bin/initdb" ]; then pgbin=/usr/lib/postgresql/$v/bin; break; fi
  done
fi
[ -n "$pgbin" ] && [ -x "$pgbin/initdb" ] ||
  die "no PostgreSQL server binaries found under /usr/lib/postgresql/*/bin; install them with 'apt-get install -y postgresql' or set PERFSWEEP_PG_BIN to the folder holding initdb and pg_ctl."

# Idempotent: a cluster we started and that still answers is reused.
if [ -n "${PERFSWEEP_PG_DIR:-}" ] && [ -f "$PERFSWEEP_PG_DIR/.perfsweep-pg" ] &&
   [ -f "$PERFSWEEP_PG_DIR/env" ]; then
  port=$(sed -n 's/^port=//p' "$PERFSWEEP_PG_DIR/.perfsweep-pg")
  if "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$port" 2>/dev/null; then
    cat "$PERFSWEEP_PG_DIR/env"
    exit 0
  fi
fi

# The server refuses to run as root: run it as the unprivileged 'postgres' user in that case.
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 ||
    die "running as root but the unprivileged user 'postgres' does not exist; install the postgresql package or run this script as a normal user."
  as_pg() { runuser -u postgres -- "$@"; }
  owner=postgres
else
  as_pg() { "$@"; }
  owner=$(id -un)
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/perfsweep-pg.XXXXXX") || die "cannot create a temporary folder under ${TMPDIR:-/tmp}; check that it exists and is writable."
chmod 755 "$dir"
mkdir -p "$dir/sock"
chown "$owner" "$dir" "$dir/sock"
chmod 700 "$dir/sock"
echo "created=$(date +%s)" > "$dir/.perfsweep-pg"
cleanup_on_error() { rm -rf "$dir"; }
trap cleanup_on_error ERR

pwfile=$dir/pw
pw=perfsweep-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
printf '%s\n' "$pw" > "$pwfile"
chown "$owner" "$pwfile"
chmod 600 "$pwfile"

as_pg "$pgbin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
  > "$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; rm -rf "$dir"; die "initdb failed into $dir/data (log above)."; }

# Only loopback and the private socket; the password role must always authenticate.
cat > "$dir/data/pg_hba.conf" <<'EOF'
local all perfsweep_pw              scram-sha-256
host  all perfsweep_pw 127.0.0.1/32 scram-sha-256
local all all                       trust
host  all all          127.0.0.1/32 trust
EOF
cat >> "$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir/sock'
max_connections = 60
shared_buffers = 128MB
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = off
password_encryption = 'scram-sha-256'
EOF

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
started=
for _ in $(seq 1 20); do
  port=$(( 20000 + RANDOM % 40000 ))
  port_free "$port" || continue
  # The port goes into the configuration, so a plain `pg_ctl start` after a stop reuses it.
  sed -i '/^port = /d' "$dir/data/postgresql.conf"
  echo "port = $port" >> "$dir/data/postgresql.conf"
  if as_pg "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start \
       >/dev/null 2>&1; then
    started=1; break
  fi
done
[ -n "$started" ] || { tail -n 20 "$dir/server.log" >&2 || true; rm -rf "$dir";
  die "the server did not start on any free loopback port (log above)."; }
echo "port=$port" >> "$dir/.perfsweep-pg"

for _ in $(seq 1 50); do
  "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$port" && break
  sleep 0.1
done

psql_su() { as_pg "$pgbin/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir/sock" -p "$port" -U postgres "$@"; }
psql_su -d postgres >/dev/null <<EOF
CREATE ROLE perfsweep LOGIN CREATEDB;
GRANT pg_read_all_stats, pg_signal_backend TO perfsweep;
CREATE DATABASE perfsweep OWNER perfsweep;
CREATE ROLE perfsweep_pw LOGIN PASSWORD '$pw';
GRANT ALL ON DATABASE perfsweep TO perfsweep_pw;
EOF
psql_su -d perfsweep -c "GRANT ALL ON SCHEMA public TO perfsweep_pw" >/dev/null

cat > "$dir/env" <<EOF
export PERFSWEEP_PG_DIR='$dir'
export PERFSWEEP_PG_BIN='$pgbin'
export PERFSWEEP_TEST_DSN='postgresql://perfsweep@127.0.0.1:$port/perfsweep'
export PERFSWEEP_TEST_PW_DSN='postgresql://perfsweep_pw:$pw@127.0.0.1:$port/perfsweep'
EOF
chmod 600 "$dir/env"
trap - ERR
echo "pg-start.sh: PostgreSQL $("$pgbin/pg_ctl" --version | awk '{print $3}') running in $dir on 127.0.0.1:$port" >&2
cat "$dir/env"

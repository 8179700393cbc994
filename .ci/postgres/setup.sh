#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the store tests and tells them
# where it is:
#
#   - installs Debian's postgresql when no server binaries are found;
#   - creates a cluster in $MASTERSHIP_PG_DIR (default
#     ${TMPDIR:-/tmp}/mastership-postgres) owned by the postgres user (or
#     by the caller, when not root), listening on 127.0.0.1 only, on a free
#     port, with its Unix socket inside that directory;
#   - creates the role "mastership" (random password, kept in the
#     directory) and the database "mastership_test" it owns;
#   - writes "export MASTERSHIP_TEST_POSTGRES=postgres://…" to
#     $MASTERSHIP_PG_DIR/env and prints the same line on stdout (progress
#     goes to stderr).
#
# Idempotent: a running server is reused, a stopped one (after a reboot)
# is started again. Usage from CI:
#
#   .ci/postgres/setup.sh >/dev/null
#   . "${MASTERSHIP_PG_DIR:-${TMPDIR:-/tmp}/mastership-postgres}/env"
#
# Stop it with: pg_ctl -D "$MASTERSHIP_PG_DIR/data" stop (as its owner).
#
# The server is tuned for tests, not for keeping data: fsync and
# synchronous_commit are off, so a power cut may corrupt it. Never point
# it at anything but scratch data.
set -euo pipefail

dir="${MASTERSHIP_PG_DIR:-${TMPDIR:-/tmp}/mastership-postgres}"
role=mastership
db=mastership_test

log() { echo "postgres-setup: $*" >&2; }
die() { log "$*"; exit 1; }

as_root=""
[ "$(id -u)" -eq 0 ] && as_root=1

# pg_bin finds the newest installed server's bin directory.
pg_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/postgres" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
      echo "$d"
      return 0
    fi
  done
  if command -v pg_config >/dev/null 2>&1; then
    d=$(pg_config --bindir)
    if [ -x "$d/postgres" ] && [ -x "$d/initdb" ]; then
      echo "$d"
      return 0
    fi
  fi
  return 1
}

install_server() {
  command -v apt-get >/dev/null 2>&1 || die "no PostgreSQL server found and no apt-get to install one"
  local sudo=""
  if [ -z "$as_root" ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo="sudo -n"
    else
      die "no PostgreSQL server found; not root and no passwordless sudo to install postgresql"
    fi
  fi
  log "installing postgresql"
  # Keep the package from starting the system-wide cluster: this script
  # runs its own. Only when no policy is in place already.
  local policy=/usr/sbin/policy-rc.d added=""
  if [ ! -e "$policy" ] && $sudo sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"; then
    added=1
  fi
  local rc=0
  export DEBIAN_FRONTEND=noninteractive
  { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends postgresql; } >&2 || rc=$?
  if [ -n "$added" ]; then $sudo rm -f "$policy"; fi
  [ "$rc" -eq 0 ] || die "apt-get install postgresql failed ($rc)"
}

bin=$(pg_bin) || { install_server; bin=$(pg_bin) || die "postgresql installed but no server binaries found"; }

# owner runs a command as the cluster's owner: postgres when we are root
# (the server refuses to run as root), the caller otherwise.
owner=$(id -un)
if [ -n "$as_root" ]; then
  owner=postgres
  id -u "$owner" >/dev/null 2>&1 || die "user postgres does not exist (is the postgresql package installed?)"
fi
as_owner() {
  if [ -n "$as_root" ]; then
    runuser -u "$owner" -- "$@"
  else
    "$@"
  fi
}

data="$dir/data"
sock="$dir/socket"
mkdir -p "$dir"
if [ -n "$as_root" ]; then chown "$owner": "$dir"; fi
chmod 700 "$dir"
as_owner mkdir -p "$sock"

# Free port: nothing answers a TCP connect on 127.0.0.1.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p
  for p in $(seq "${MASTERSHIP_PG_PORT:-55432}" 55532); do
    if ! port_in_use "$p"; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

if [ ! -s "$data/PG_VERSION" ]; then
  log "creating a cluster in $data"
  # trust on the socket only: it lives in $dir, mode 0700, so only the
  # owner (and root) reach it. TCP needs a password.
  as_owner "$bin/initdb" -D "$data" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  cat <<EOF | as_owner tee -a "$data/postgresql.conf" >/dev/null
# mastership test settings (.ci/postgres/setup.sh)
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sock'
max_connections = 300
shared_buffers = 128MB
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
fi

running() { as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; }

if running; then
  port=$(as_owner sed -n 4p "$data/postmaster.pid")
  log "server already running on 127.0.0.1:$port"
else
  port=$(cat "$dir/port" 2>/dev/null || true)
  if [ -z "$port" ] || port_in_use "$port"; then
    port=$(free_port) || die "no free port in ${MASTERSHIP_PG_PORT:-55432}-55532"
  fi
  log "starting the server on 127.0.0.1:$port"
  as_owner "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port" start >/dev/null ||
    { tail -n 20 "$dir/server.log" >&2 || true; die "the server did not start (log: $dir/server.log)"; }
fi
echo "$port" >"$dir/port"

# The role's password is made once and kept, so an env file sourced
# earlier stays valid when the script runs again.
pwfile="$dir/password"
if [ ! -s "$pwfile" ]; then
  (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$pwfile")
fi
password=$(cat "$pwfile")

psql_admin() { as_owner psql -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$port" -U postgres -d postgres "$@"; }
psql_admin -v role="$role" -v db="$db" -v pw="$password" >/dev/null <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'role')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
-- CREATEDB: tests may create scratch databases of their own.
ALTER ROLE :"role" WITH LOGIN CREATEDB PASSWORD :'pw';
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'role')
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SQL

dsn="postgres://$role:$password@127.0.0.1:$port/$db?sslmode=disable"
line="export MASTERSHIP_TEST_POSTGRES='$dsn'"
(umask 077; echo "$line" >"$dir/env")
log "ready: . $dir/env"
echo "$line"

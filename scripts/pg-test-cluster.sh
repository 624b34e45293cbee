#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for Formwork tests.
#
#   scripts/pg-test-cluster.sh start   # install server if needed, init + start; prints URL last
#   scripts/pg-test-cluster.sh stop    # fast shutdown if running
#   scripts/pg-test-cluster.sh url     # print the connection URL
#
# Environment:
#   FORMWORK_PG_DIR   cluster (data) directory   default /tmp/formwork-pg
#   FORMWORK_PG_PORT  TCP port on 127.0.0.1      default 55432
#
# The cluster is owned by the `postgres` OS user, trusts every local connection
# (initdb -A trust) and listens on 127.0.0.1 only. fsync stays on. The unix socket
# and the server log (server.log) live in the cluster directory.
# Only the URL is written to stdout; progress messages go to stderr.
set -euo pipefail

PG_DIR="${FORMWORK_PG_DIR:-/tmp/formwork-pg}"
PG_PORT="${FORMWORK_PG_PORT:-55432}"
PG_USER=postgres
PG_LOG="$PG_DIR/server.log"
URL="postgres://postgres@127.0.0.1:${PG_PORT}/postgres"

log() { echo "pg-test-cluster: $*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  echo "usage: $0 start|stop|url" >&2
  exit 2
}

# Newest /usr/lib/postgresql/<ver>/bin that has initdb, or empty.
find_bindir() {
  local f
  f="$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)"
  [[ -n "$f" ]] && dirname "$f"
  return 0
}

ensure_server_binaries() {
  if [[ -z "$(find_bindir)" ]]; then
    [[ "$(id -u)" -eq 0 ]] || die "PostgreSQL server binaries missing and not root; install package 'postgresql'"
    log "PostgreSQL server binaries not found; installing with apt-get"
    apt-get update >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2
    [[ -n "$(find_bindir)" ]] || die "apt-get install postgresql did not provide /usr/lib/postgresql/*/bin/initdb"
  fi
  BINDIR="$(find_bindir)"
  if ! id -u "$PG_USER" >/dev/null 2>&1; then
    log "creating system user $PG_USER"
    useradd --system --home-dir /var/lib/postgresql --shell /bin/bash "$PG_USER"
  fi
}

# Run a command as the postgres OS user (from a directory it can enter).
# fd 9 (the start lock) is closed so the postmaster does not inherit and hold it.
as_pg() {
  if [[ "$(id -un)" == "$PG_USER" ]]; then
    (cd / && "$@") 9>&-
  else
    (cd / && runuser -u "$PG_USER" -- "$@") 9>&-
  fi
}

# 0 if a server is running on PG_DIR. Needs BINDIR.
is_running() {
  [[ -f "$PG_DIR/PG_VERSION" ]] || return 1
  as_pg "$BINDIR/pg_ctl" status -D "$PG_DIR" >/dev/null 2>&1
}

pick_locale() {
  # C.UTF-8 gives UTF-8 ctype on glibc >= 2.35 (Debian 12); plain C elsewhere.
  if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
    echo C.UTF-8
  else
    echo C
  fi
}

init_cluster() {
  if [[ -f "$PG_DIR/PG_VERSION" ]]; then
    return 0
  fi
  if [[ -d "$PG_DIR" ]] && [[ -n "$(ls -A "$PG_DIR")" ]]; then
    die "$PG_DIR exists, is not empty and is not a PostgreSQL cluster; remove it or set FORMWORK_PG_DIR"
  fi
  log "initialising cluster in $PG_DIR"
  mkdir -p "$PG_DIR"
  if [[ "$(id -un)" != "$PG_USER" ]]; then
    chown "$PG_USER:" "$PG_DIR"
  fi
  chmod 700 "$PG_DIR"
  as_pg test -w "$PG_DIR" || die "user $PG_USER cannot write $PG_DIR (check the permissions of its parent directories)"

  as_pg "$BINDIR/initdb" -D "$PG_DIR" -A trust -U "$PG_USER" -E UTF8 --locale="$(pick_locale)" >&2

  local sockdir="${PG_DIR//\'/\'\'}"
  as_pg tee -a "$PG_DIR/postgresql.conf" >/dev/null <<CONF

# --- formwork test cluster (scripts/pg-test-cluster.sh) ---
listen_addresses = '127.0.0.1'
port = ${PG_PORT}
unix_socket_directories = '${sockdir}'
max_connections = 300
CONF
}

# The API tests make a database per test (`fw_<pid>_<n>_<nanos>`, the pid of the test
# process) and leave it behind; a machine that runs the suite again and again would fill
# its disk with them (56 GB once). Each `start` drops those of test processes that are no
# longer running (a run in progress keeps its own, even between its connections).
drop_leftover_databases() {
  local db pid
  for db in $(psql "$URL" -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'fw\_%'" 2>/dev/null); do
    pid="${db#fw_}"
    pid="${pid%%_*}"
    if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
      continue
    fi
    psql "$URL" -qc "DROP DATABASE IF EXISTS \"$db\"" >/dev/null 2>&1 || true
  done
}

cmd_start() {
  ensure_server_binaries
  # Serialise concurrent `start`s (e.g. parallel test runners).
  mkdir -p "$(dirname "$PG_DIR")"
  exec 9>"${PG_DIR%/}.lock"
  flock 9
  if is_running; then
    log "already running ($PG_DIR)"
    drop_leftover_databases
    echo "$URL"
    return 0
  fi
  init_cluster
  log "starting server on 127.0.0.1:$PG_PORT (log: $PG_LOG)"
  # -p on the command line overrides postgresql.conf, so FORMWORK_PG_PORT always wins.
  if ! as_pg "$BINDIR/pg_ctl" start -w -t 120 -D "$PG_DIR" -l "$PG_LOG" \
        -o "-p $PG_PORT" >&2; then
    log "server failed to start; last lines of $PG_LOG:"
    tail -n 30 "$PG_LOG" >&2 || true
    exit 1
  fi
  drop_leftover_databases
  echo "$URL"
}

cmd_stop() {
  BINDIR="$(find_bindir)"
  if [[ -z "$BINDIR" ]] || ! id -u "$PG_USER" >/dev/null 2>&1; then
    log "no PostgreSQL installation; nothing to stop"
    return 0
  fi
  if is_running; then
    as_pg "$BINDIR/pg_ctl" stop -w -D "$PG_DIR" -m fast >&2
  else
    log "not running ($PG_DIR)"
  fi
}

[[ $# -eq 1 ]] || usage
case "$1" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  url) echo "$URL" ;;
  *) usage ;;
esac

#!/usr/bin/env bash
# A throwaway PostgreSQL for tests (the controller's shared state backend):
#   tools/postgres.sh up      initdb into a private data dir, start on 127.0.0.1:$CATALYST_POSTGRES_PORT
#   tools/postgres.sh down    stop it and delete the data dir
#   tools/postgres.sh url     print the Pulumi backend URL (postgres://...)
#   tools/postgres.sh status  exit 0 when it answers
# Debian's postgresql 15 is used (installed with apt-get when missing). initdb refuses to run as
# root, so as root the server runs as the `postgres` user (runuser), with its data dir and socket
# under /tmp (owned by that user). Trust authentication on loopback only: the
# instance lives for one test run and listens nowhere else.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
port=${CATALYST_POSTGRES_PORT:-31310}
dir=${CATALYST_POSTGRES_DIR:-$repo/.catalyst/postgres}
# As root the server runs as `postgres`, which may not traverse the checkout's private folders
# (.catalyst can be 0700): its files then live under /tmp, in a folder keyed by the asked-for one.
if [[ $(id -u) -eq 0 ]]; then dir="/tmp/catalyst-postgres-$(printf '%s' "$dir" | sha256sum | cut -c1-12)"; fi
data="$dir/data"
database=catalyst
bin=${CATALYST_POSTGRES_BIN:-/usr/lib/postgresql/15/bin}

say() { printf 'postgres: %s\n' "$*" >&2; }

install() {
  if [[ -x "$bin/initdb" ]]; then return; fi
  say "installing postgresql with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql-15 >/dev/null
}

# Runs a PostgreSQL binary as the owner of the data dir (postgres when we are root).
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

up() {
  install
  if status >/dev/null 2>&1; then say "already up on port $port"; return; fi
  rm -rf "$dir" && mkdir -p "$dir"
  if [[ $(id -u) -eq 0 ]]; then chown postgres: "$dir"; fi
  as_owner "$bin/initdb" -D "$data" -A trust -U postgres --no-sync >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  as_owner "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 30 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null ||
    { tail -20 "$dir/server.log" >&2; exit 1; }
  as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$database"
  say "up on 127.0.0.1:$port (data $data)"
}

down() {
  if [[ -d "$data" ]]; then as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true; fi
  rm -rf "$dir"
  say "down"
}

# Stops the server but keeps its data (tests that take the backend away for a while).
pause() { as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null; }
resume() {
  as_owner "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 30 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
}

status() { "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; }

url() { echo "postgres://postgres@127.0.0.1:$port/$database?sslmode=disable"; }

case "${1:-}" in
  up) up ;;
  down) down ;;
  pause) pause ;;
  resume) resume ;;
  status) status ;;
  url) url ;;
  *) echo "usage: tools/postgres.sh up|down|pause|resume|status|url" >&2; exit 2 ;;
esac

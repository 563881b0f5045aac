#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL server for the API's PostgreSQL tests:
#   scripts/postgres-test.sh cargo test --locked -p zb-api
# Installs PostgreSQL from Debian only when it is missing, creates a cluster in a temporary
# directory (trust auth, TCP on 127.0.0.1 at a free port, its unix socket in that directory),
# exports ZB_TEST_POSTGRES_URL (the `postgres` database; each test creates its own database from
# it), runs the command and stops and deletes the server when the command ends, however it ends.
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: $0 COMMAND [ARGS...]" >&2
  exit 2
fi

# The newest installed major version's binaries (Debian keeps them off PATH).
find_bin() {
  local dir
  dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
    echo "$dir"
  fi
}

bin=$(find_bin)
if [ -z "$bin" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "postgres-test: PostgreSQL is not installed; run as root or: sudo apt-get install -y postgresql" >&2
    exit 1
  fi
  echo "postgres-test: installing postgresql from Debian for the API's PostgreSQL tests"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  bin=$(find_bin)
  [ -n "$bin" ] || { echo "postgres-test: postgresql installed but no initdb under /usr/lib/postgresql" >&2; exit 1; }
fi

# The server refuses to run as root: as root, run it as Debian's `postgres` user on a directory
# that user owns.
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/false postgres
  as_owner=(runuser -u postgres --)
fi

# As root, under /tmp whatever TMPDIR says: the postgres user must be able to reach the directory.
# (A short path, too: the unix socket's path must fit in 107 bytes.)
if [ "${#as_owner[@]}" -gt 0 ]; then
  dir=$(mktemp -d /tmp/zb-postgres.XXXXXX)
  chown postgres: "$dir"
else
  dir=$(mktemp -d "${TMPDIR:-/tmp}/zb-postgres.XXXXXX")
fi

# Server commands run from the server's directory: the postgres user may not enter the caller's.
server() {
  (cd "$dir" && "${as_owner[@]}" "$@")
}

stop() {
  local status=$?
  if [ "$status" -ne 0 ] && [ -f "$dir/server.log" ]; then
    echo "postgres-test: exit status $status; the last lines of the PostgreSQL server log:" >&2
    tail -n 20 "$dir/server.log" >&2 || true
  fi
  server "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  exit "$status"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

server "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }

# A free port can be taken between the probe and the start: try a few.
started=""
for _ in 1 2 3 4 5; do
  port=$(free_port)
  # fsync off: a test server's data may be lost on a crash; max_connections: tests run in parallel.
  if server "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=300" \
    start >/dev/null; then
    started=yes
    break
  fi
done
if [ -z "$started" ]; then
  echo "postgres-test: the server did not start; its log:" >&2
  cat "$dir/server.log" >&2 || true
  exit 1
fi

export ZB_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
echo "postgres-test: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') at $ZB_TEST_POSTGRES_URL"
# Not exec: the EXIT trap stops the server after the command.
"$@"

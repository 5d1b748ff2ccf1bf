#!/usr/bin/env bash
# Operations wall figures on SQLite and PostgreSQL: creates monitors (default 5,000 in five
# municipalities; some down, degraded, in maintenance or paused), signs in through the login form
# as a technician serving every municipality, and times GET /wall end to end over loopback HTTP
# (p50/p95/max of sequential requests, page size), beside Store::list_monitors alone.
# Loopback only; prints figures; asserts nothing.
# PostgreSQL runs in a throwaway cluster from .ci/pg-start (fsync off, as in CI).
# Needs: PostgreSQL server binaries for the PostgreSQL run (apt-get install postgresql).
# Usage: bash bench/wall.sh [monitors=5000] [municipalities=5] [requests=50]
#        DRIFTA_BENCH_BACKENDS="sqlite" bash bench/wall.sh
set -euo pipefail
cd "$(dirname "$0")/.."
monitors=${1:-5000}
municipalities=${2:-5}
requests=${3:-50}
backends=${DRIFTA_BENCH_BACKENDS:-sqlite postgres}

cargo build --release -q -p drifta-bench
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/drifta-bench
args=(--monitors "$monitors" --municipalities "$municipalities" --requests "$requests")
pg_started=
cleanup() {
  [ -n "$pg_started" ] && .ci/pg-stop
  return 0
}
trap cleanup EXIT

for backend in $backends; do
  case $backend in
    sqlite)
      # Without --database-url the run uses a fresh SQLite file in a temporary directory (and,
      # were DRIFTA_TEST_PG set, PostgreSQL too: that is the next backend's job here).
      env -u DRIFTA_TEST_PG "$bin" wall "${args[@]}"
      ;;
    postgres)
      eval "$(.ci/pg-start)"
      pg_started=1
      "$DRIFTA_PG_BIN/psql" -q "$DRIFTA_TEST_PG" -c "CREATE DATABASE drifta_bench_wall" >/dev/null
      "$bin" wall --database-url "${DRIFTA_TEST_PG%/*}/drifta_bench_wall" "${args[@]}"
      .ci/pg-stop
      pg_started=
      ;;
    *) echo "bench: unknown backend '$backend' (sqlite, postgres)" >&2; exit 1 ;;
  esac
  echo
done

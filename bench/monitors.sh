#!/usr/bin/env bash
# Monitoring figures on SQLite and PostgreSQL: creates HTTP monitors pointing at a local target
# server (drifta-bench monitor-target, a child process, so its CPU is not counted), runs what
# `drifta serve` runs (web server, search indexer, heartbeat sweep, check engine) at the real
# interval, and measures the whole process after one interval of warm-up: CPU (% of one core),
# RSS, checks per second, schedule lag, state changes, database growth per day, and how long
# until every monitor is checked after start and after an engine restart. Then sends heartbeat
# pings to POST /ping/<secret> over keep-alive connections from the same process and reports
# pings per second. Loopback only; prints figures; asserts nothing.
# PostgreSQL runs in a throwaway cluster from .ci/pg-start (fsync and synchronous_commit off,
# as in CI), so its write figures are better than a durable server's would be.
# Needs: Linux (/proc), PostgreSQL server binaries for the PostgreSQL runs
# (apt-get install postgresql).
# Usage: bash bench/monitors.sh [monitors=1000] [interval=20] [seconds=120] [-- extra drifta-bench monitors arguments]
#        DRIFTA_BENCH_BACKENDS="sqlite" bash bench/monitors.sh 10000 20 120
set -euo pipefail
cd "$(dirname "$0")/.."
monitors=${1:-1000}
interval=${2:-20}
seconds=${3:-120}
shift $(( $# < 3 ? $# : 3 ))
[ "${1:-}" = "--" ] && shift
backends=${DRIFTA_BENCH_BACKENDS:-sqlite postgres}

cargo build --release -q -p drifta-bench
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/drifta-bench
pg_started=
cleanup() {
  [ -n "$pg_started" ] && .ci/pg-stop
  return 0
}
trap cleanup EXIT

for backend in $backends; do
  case $backend in
    sqlite)
      # Without --database-url each run uses a fresh SQLite file in a temporary directory.
      "$bin" monitors --monitors "$monitors" --interval-secs "$interval" --seconds "$seconds" "$@"
      echo
      "$bin" heartbeats
      ;;
    postgres)
      eval "$(.ci/pg-start)"
      pg_started=1
      for db in drifta_bench_monitors drifta_bench_heartbeats; do
        "$DRIFTA_PG_BIN/psql" -q "$DRIFTA_TEST_PG" -c "CREATE DATABASE $db" >/dev/null
      done
      "$bin" monitors --database-url "${DRIFTA_TEST_PG%/*}/drifta_bench_monitors" \
        --monitors "$monitors" --interval-secs "$interval" --seconds "$seconds" "$@"
      echo
      "$bin" heartbeats --database-url "${DRIFTA_TEST_PG%/*}/drifta_bench_heartbeats"
      .ci/pg-stop
      pg_started=
      ;;
    *) echo "bench: unknown backend '$backend' (sqlite, postgres)" >&2; exit 1 ;;
  esac
  echo
done

#!/usr/bin/env bash
# Service-desk figures on SQLite and PostgreSQL: generates tickets with replies across
# municipalities, then measures create-ticket latency at a steady rate, 50-row queue pages
# sorted by SLA due time, and full-text search. Prints figures; asserts nothing.
# PostgreSQL runs in a throwaway cluster from .ci/pg-start (fsync and synchronous_commit off,
# as in CI), so its write latencies are better than a durable server's would be.
# Needs: PostgreSQL server binaries for the second half (apt-get install postgresql).
# Usage: bash bench/service-desk.sh [tickets=1000000] [municipalities=50] [seconds=10] [-- extra drifta-bench arguments]
#        DRIFTA_BENCH_BACKENDS="sqlite" bash bench/service-desk.sh 100000
set -euo pipefail
cd "$(dirname "$0")/.."
tickets=${1:-1000000}
municipalities=${2:-50}
seconds=${3:-10}
shift $(( $# < 3 ? $# : 3 ))
[ "${1:-}" = "--" ] && shift
backends=${DRIFTA_BENCH_BACKENDS:-sqlite postgres}

cargo build --release -q -p drifta-bench
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/drifta-bench
work=$(mktemp -d)
pg_started=
cleanup() {
  [ -n "$pg_started" ] && .ci/pg-stop
  rm -rf "$work"
}
trap cleanup EXIT

run() {
  "$bin" service-desk --database-url "$1" --tickets "$tickets" --municipalities "$municipalities" \
    --seconds "$seconds" "${@:2}"
}

for backend in $backends; do
  case $backend in
    sqlite)
      run "sqlite://$work/bench.db" "$@"
      rm -f "$work"/bench.db*
      ;;
    postgres)
      eval "$(.ci/pg-start)"
      pg_started=1
      "$DRIFTA_PG_BIN/psql" -q "$DRIFTA_TEST_PG" -c 'CREATE DATABASE drifta_bench' >/dev/null
      run "${DRIFTA_TEST_PG%/*}/drifta_bench" "$@"
      .ci/pg-stop
      pg_started=
      ;;
    *) echo "bench: unknown backend '$backend' (sqlite, postgres)" >&2; exit 1 ;;
  esac
  echo
done

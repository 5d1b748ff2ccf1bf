#!/usr/bin/env bash
# Inventory figures on SQLite and PostgreSQL: generates a provider's network (a shared data
# centre, and per municipality a core, sites with fibre and 4G backup links, switches,
# access points and devices) with typed relations, bulk-loaded, then measures impact
# analysis of a core switch and of a service, 50-row inventory list pages (by municipality
# and type, by warranty, by host name) and a CSV import of laptops, new and then as updates.
# Prints figures; asserts nothing.
# PostgreSQL runs in a throwaway cluster from .ci/pg-start (fsync and synchronous_commit off,
# as in CI), so its write figures are better than a durable server's would be.
# Needs: PostgreSQL server binaries for the second half (apt-get install postgresql).
# Usage: bash bench/inventory.sh [items=200000] [relations=500000] [municipalities=50] [import_rows=100000] [-- extra drifta-bench arguments]
#        DRIFTA_BENCH_BACKENDS="sqlite" bash bench/inventory.sh 20000 50000
set -euo pipefail
cd "$(dirname "$0")/.."
items=${1:-200000}
relations=${2:-500000}
municipalities=${3:-50}
import_rows=${4:-100000}
shift $(( $# < 4 ? $# : 4 ))
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
  "$bin" inventory --database-url "$1" --items "$items" --relations "$relations" \
    --municipalities "$municipalities" --import-rows "$import_rows" "${@:2}"
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

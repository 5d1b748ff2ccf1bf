#!/usr/bin/env bash
# Mail intake figures: 1,000 messages (by default) wait in a real IMAP mailbox (a throwaway
# Dovecot from .ci/imap-start, filled in one MULTIAPPEND by .ci/imap-multiappend.py); one poll
# turns them into tickets over IMAPS. Prints the time and the counts, on SQLite and PostgreSQL;
# fails when the ticket count does not match exactly.
# Needs: dovecot-core dovecot-imapd openssl (and postgresql for the PostgreSQL run).
# Usage: bash bench/mail.sh [messages=1000]
#        DRIFTA_BENCH_BACKENDS="sqlite" bash bench/mail.sh
set -euo pipefail
cd "$(dirname "$0")/.."
messages=${1:-1000}
backends=${DRIFTA_BENCH_BACKENDS:-sqlite postgres}

cargo build --release -q -p drifta-bench
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/drifta-bench
trap '.ci/imap-stop; .ci/pg-stop' EXIT
eval "$(.ci/imap-start)"
for backend in $backends; do
  user="bench-$backend-$RANDOM@test"
  python3 .ci/imap-multiappend.py "$user" "$messages" >/dev/null
  case $backend in
    sqlite) env -u DRIFTA_TEST_PG "$bin" mail --user "$user" --expect "$messages" ;;
    postgres)
      eval "$(.ci/pg-start)"
      "$DRIFTA_PG_BIN/psql" -q "$DRIFTA_TEST_PG" -c "CREATE DATABASE drifta_bench_mail" >/dev/null
      "$bin" mail --user "$user" --expect "$messages" --database-url "${DRIFTA_TEST_PG%/*}/drifta_bench_mail"
      .ci/pg-stop
      unset DRIFTA_PG_DIR
      ;;
    *) echo "bench: unknown backend '$backend' (sqlite, postgres)" >&2; exit 1 ;;
  esac
done

#!/usr/bin/env bash
# Foundation figures: start-up of `drifta demo` on an existing database, idle RSS, and the
# signed-in dashboard under 50 concurrent clients on loopback (wrk). Prints figures; asserts nothing.
# Needs: wrk and curl (apt-get install wrk curl). Usage: bash bench/foundation.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-15}
command -v wrk >/dev/null || { echo "bench: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
cargo build --release -q -p drifta
bin=$PWD/target/release/drifta
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port

start() {
  (cd "$work" && DRIFTA_LOG=warn exec "$bin" demo --listen "127.0.0.1:$port" >/dev/null 2>"$work/server.log") &
  pid=$!
}
wait_up() {
  for _ in $(seq 1 2000); do
    curl -fs -o /dev/null "$url/healthz" && return 0
    sleep 0.005
  done
  echo "bench: server did not come up" >&2; cat "$work/server.log" >&2; exit 1
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; }

# First run creates and seeds drifta-demo.db; it is not measured.
start; wait_up; stop

times=()
for _ in 1 2 3 4 5; do
  t0=$(date +%s%N); start; wait_up; t1=$(date +%s%N)
  times+=($(( (t1 - t0) / 1000000 )))
  stop
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n | tr '\n' ' ')
median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)

start; wait_up; sleep 2
rss_idle=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")

jar=$work/cookies
curl -s -c "$jar" -b "$jar" "$url/login" -o "$work/login.html"
csrf=$(grep -o 'name="csrf" value="[^"]*"' "$work/login.html" | head -1 | sed 's/.*value="//; s/"$//')
curl -s -c "$jar" -b "$jar" -o /dev/null -d "csrf=$csrf&login=tekniker&password=drifta-demo&next=/" "$url/login"
session=$(awk '$6 == "drifta_session" {print $7}' "$jar")
[ -n "$session" ] || { echo "bench: sign-in failed" >&2; exit 1; }
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: drifta_session=$session" "$url/")
[ "$status" = 200 ] || { echo "bench: dashboard answered $status" >&2; exit 1; }

wrk -t2 -c50 -d"${duration}s" --latency -H "Cookie: drifta_session=$session" "$url/" > "$work/wrk.txt"
rss_load=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
p50=$(awk '$1 == "50%" {print $2}' "$work/wrk.txt")
p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")
errors=$(grep -E 'Non-2xx|Socket errors' "$work/wrk.txt" || true)

echo "drifta foundation benchmark ($(nproc) cores, SQLite, demo data)"
echo "  start-up to first healthy answer: median ${median} ms (runs: ${sorted}ms)   target < 1000 ms"
echo "  idle RSS after start-up:          $((rss_idle / 1024)) MiB                               target < 60 MiB"
echo "  signed-in dashboard, 50 clients:  ${rps} requests/s, p50 ${p50}, p99 ${p99}   target p99 < 20 ms"
echo "  RSS after the load:               $((rss_load / 1024)) MiB"
[ -z "$errors" ] || echo "  wrk reported: $errors"

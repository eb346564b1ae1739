#!/usr/bin/env bash
# Intake benchmark for `layercake serve`: signed deliveries of a real
# payload over loopback with wrk (Debian's `wrk`), each with a new delivery
# id, against a release build on a fresh database. Prints wrk's latency
# distribution and the server's delivery counters.
#
# Usage: bench/intake.sh [SECONDS] [CONNECTIONS] [EVENT PAYLOAD]
#   default: 20 s, 32 connections, pull_request/synchronize (every delivery is
#   written: a new delivery row, coalesced into one job for the same head)
#   BENCH_DATABASE=postgres://… runs it on a PostgreSQL job queue (give it an
#   empty database); default: a new SQLite file.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
connections=${2:-32}
event=${3:-pull_request}
payload=${4:-crates/layercake_testkit/fixtures/github-webhooks/pull_request/synchronize.payload.json}
command -v wrk >/dev/null || { echo "bench: install wrk (apt-get install wrk)" >&2; exit 1; }
cargo build --release --quiet -p layercake
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
secret=bench-secret
cp "$payload" "$work/body.json"
printf 'sha256=%s\n' "$(openssl dgst -sha256 -hmac "$secret" -r "$work/body.json" | cut -d' ' -f1)" > "$work/signature"
LAYERCAKE_WEBHOOK_SECRET=$secret \
LAYERCAKE_APP_ID=1 \
LAYERCAKE_PRIVATE_KEY_PATH=crates/layercake_testkit/src/test_app_key.pem \
LAYERCAKE_DATABASE="${BENCH_DATABASE:-$work/jobs.db}" \
LAYERCAKE_LISTEN=127.0.0.1:18080 \
GITHUB_API_URL=http://127.0.0.1:9 \
LAYERCAKE_NO_BUILD=true \
LAYERCAKE_RECONCILE_SECONDS=0 \
  target/release/layercake serve 2>"$work/server.log" &
server=$!
for _ in $(seq 1 50); do
  curl -fs http://127.0.0.1:18080/healthz >/dev/null && break
  sleep 0.1
done
echo "bench: $(grep -m1 listening "$work/server.log"); payload $(wc -c <"$work/body.json") bytes"
wrk --latency -t 2 -c "$connections" -d "${seconds}s" -s bench/intake.lua \
  http://127.0.0.1:18080 -- "$event" "$work/body.json" "$work/signature"
curl -fs http://127.0.0.1:18080/metrics | grep -E '^layercake_(deliveries_total|queue_depth)'
ps -o rss=,comm= -p "$server" | awk '{ printf "bench: server RSS %.1f MB\n", $1 / 1024 }'

#!/usr/bin/env bash
# Tessera's per-request session cost, measured in one run:
#   - the session-validated route (GET /api/session: cookie scan, token parse,
#     SHA-256, cache lookup, idle/absolute expiry check, throttled last-seen,
#     JSON) with NSESS distinct live sessions rotated by the client,
#   - against the bare route of the same server (GET /healthz, same requests,
#     same cookies, no session work),
#   - and against the reference peers in ../shared/bench/peers (bare axum,
#     tower-sessions with memory, SQLite and moka+SQLite stores).
# Durable store: SQLite (the embedded default); idle expiry enforced (default 60 min).
#
#   bench/run.sh                       # everything (needs wrk, python3, taskset)
#   SKIP_PEERS=1 DUR=5s bench/run.sh   # Tessera only, shorter
#
# Server pinned to CPU 0, wrk and the session maker to CPU 1. Writes under $WORK.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

DUR=${DUR:-4s}
CONNS=${CONNS:-64}
NSESS=${NSESS:-10000}
ROUNDS=${ROUNDS:-9}
PORT=${PORT:-18180}
WORK=${WORK:-/tmp/tessera-bench}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
PEERS=${PEERS:-$ROOT/../shared/bench/peers}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

# shellcheck source=bench/lib.sh
. bench/lib.sh
need_tools wrk curl python3 taskset
rm -rf "$WORK/data" "$WORK/results"; mkdir -p "$WORK/results"
RES=$WORK/results

echo "== cargo build --release -p tessera" >&2
cargo build --release -p tessera >&2
BIN=$TARGET/release/tessera

SERVER_PID=""
cleanup() { [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null; true; }
trap cleanup EXIT INT TERM

bench_env
EMAIL=bench@example.com PASSWORD=bench-password-123
echo "$PASSWORD" | "$BIN" user add --data "$WORK/data" --email "$EMAIL" --role user --password-stdin >&2

taskset -c "$SERVER_CPU" "$BIN" serve --data "$WORK/data" --bind "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
wait_http "http://127.0.0.1:$PORT/healthz" "$SERVER_PID"
BASE=http://127.0.0.1:$PORT

echo "== creating $NSESS sessions by logging in" >&2
make_sessions "$BASE" "$EMAIL" "$PASSWORD" "$NSESS" "$RES/cookies.txt"
head -n1 "$RES/cookies.txt" >"$RES/cookie1.txt"


# Bare and session runs alternate, so drift on the machine hits both alike;
# the summary is the median over rounds.
rows=(); ratios=(); cpu_ratios=()
for round in $(seq 1 "$ROUNDS"); do
  run_wrk "bare-$round" /healthz "$RES/cookies.txt"; bare_cpu=$SRV_CPU
  read -r bare_rps bare_p50 bare_p99 bare_bad _ < <(parse_wrk "$RES/bare-$round.txt")
  bare_us=$(cpu_us "$SRV_TICKS" "$bare_rps")
  run_wrk "session-$round" /api/session "$RES/cookies.txt"; sess_cpu=$SRV_CPU
  read -r rps p50 p99 bad _ < <(parse_wrk "$RES/session-$round.txt")
  sess_us=$(cpu_us "$SRV_TICKS" "$rps")
  [[ $bad == 0 && $bare_bad == 0 ]] || { echo "round $round: non-2xx responses (bare $bare_bad, session $bad)" >&2; exit 1; }
  rows+=("| $round | bare GET /healthz | $bare_rps | $bare_p50 | $bare_p99 | 1.000 | $bare_cpu | $bare_us |")
  rows+=("| $round | session GET /api/session, $NSESS sessions | $rps | $p50 | $p99 | $(ratio "$rps" "$bare_rps") | $sess_cpu | $sess_us |")
  ratios+=("$(ratio "$rps" "$bare_rps")"); cpu_ratios+=("$(ratio "$bare_us" "$sess_us")")
  echo "round $round: session/bare = $(ratio "$rps" "$bare_rps")" >&2
done
run_wrk "session-one" /api/session "$RES/cookie1.txt"
read -r rps1 p50_1 p99_1 _ < <(parse_wrk "$RES/session-one.txt")
rows+=("| - | session GET /api/session, 1 session | $rps1 | $p50_1 | $p99_1 | $(ratio "$rps1" "$bare_rps") | $SRV_CPU | $(cpu_us "$SRV_TICKS" "$rps1") |")
MEDIAN=$(printf '%s\n' "${ratios[@]}" | median)
MEDIAN_CPU=$(printf '%s\n' "${cpu_ratios[@]}" | median)
HWM=$(awk '/^VmHWM:/{printf "%.1f MiB", $2/1024}' "/proc/$SERVER_PID/status")
cleanup; SERVER_PID=""

{
  echo "### Tessera (SQLite, idle expiry enforced; wrk -t1 -c$CONNS -d$DUR; server CPU $SERVER_CPU, wrk CPU $CLIENT_CPU)"
  echo
  echo "| round | route | req/s | p50 | p99 | ratio to bare | server CPU | server CPU µs/req |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "**Session-validated / bare, median of $ROUNDS rounds: $MEDIAN (throughput), $MEDIAN_CPU (server CPU per request).**"
  echo
  echo "Server peak RSS: $HWM. Sessions in the store: $NSESS (one person, $NSESS real logins)."
} | tee "$RES/tessera.md"

if [[ -z ${SKIP_PEERS:-} ]]; then
  echo "== reference peers ($PEERS)" >&2
  # The peer script expects its binary in its own target/ (its documented usage).
  (cd "$PEERS" && env -u CARGO_TARGET_DIR WORK="$WORK/peers" ROUNDS=1 DUR="$DUR" CONNS="$CONNS" NSESS="$NSESS" \
     MODES="bare ts-memory ts-sqlite ts-moka-sqlite" MANY_MODES="ts-memory ts-sqlite ts-moka-sqlite" SKIP_ROLLING=1 \
     ./run.sh) >"$RES/peers.md" 2>"$RES/peers.log" || { echo "peers failed; see $RES/peers.log" >&2; exit 1; }
  echo; echo "### Reference peers (same machine, same run)"; cat "$RES/peers.md"
fi

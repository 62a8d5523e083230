#!/usr/bin/env bash
# Instructions per request, counted by valgrind's callgrind: repeatable whatever
# else the machine is doing (unlike req/s on a shared VM), though blind to cache
# misses, and pessimistic for the session path: valgrind hides the CPU's SHA
# instructions, so SHA-256 runs in software (~2,000 extra instructions). Counts the server's user-space instructions for N requests of each
# kind, in steady state (sessions already cached), and prints the ratios.
#
#   bench/instructions.sh      # after bench/run.sh (reuses its data and cookies)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
N=${N:-2000}
PORT=${PORT:-18190}
WORK=${WORK:-/tmp/tessera-bench}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET/release/tessera
COOKIES=$WORK/results/cookies.txt
[[ -f $COOKIES && -d $WORK/data ]] || { echo "run bench/run.sh first (it creates the sessions)" >&2; exit 1; }
command -v callgrind_control >/dev/null || { echo "missing valgrind (apt-get install valgrind)" >&2; exit 1; }

export TESSERA_SERVER__LOG=warn
rm -f "$WORK"/callgrind.out.*
valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out.%p" "$BIN" serve --data "$WORK/data" --bind "127.0.0.1:$PORT" \
  >"$WORK/callgrind.log" 2>&1 &
VG=$!
trap 'kill $VG 2>/dev/null; wait $VG 2>/dev/null || true' EXIT
for _ in $(seq 200); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.2; done

# Warm-up: load every session into the cache and let "last seen" be written.
python3 bench/send.py "$PORT" /api/session "$N" "$COOKIES"

measure() { # label path cookies expected-status
  callgrind_control -z "$VG" >/dev/null
  python3 bench/send.py "$PORT" "$2" "$N" "$3" "$4"
  callgrind_control -d "$VG" >/dev/null
  local f; f=$(ls -t "$WORK"/callgrind.out."$VG".* | head -1)
  awk -v n="$N" '/^summary:/ {printf "%.0f", $2/n}' "$f"
}
bare=$(measure bare /healthz "$COOKIES" 200)
anon=$(measure anon /api/session - 401)
sess=$(measure session /api/session "$COOKIES" 200)
echo "| request | instructions/request | bare / this |"
echo "|---|---:|---:|"
echo "| bare GET /healthz (same cookies) | $bare | 1.000 |"
echo "| GET /api/session, no cookie (layer + 401) | $anon | $(awk -v a="$bare" -v b="$anon" 'BEGIN{printf "%.3f", a/b}') |"
echo "| GET /api/session, $N rotating sessions | $sess | $(awk -v a="$bare" -v b="$sess" 'BEGIN{printf "%.3f", a/b}') |"

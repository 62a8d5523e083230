#!/usr/bin/env bash
# Instructions per request, counted by valgrind's callgrind: repeatable whatever
# else the machine is doing (unlike req/s on a shared VM), though blind to cache
# misses, and pessimistic for the session path: valgrind hides the CPU's SHA
# instructions, so SHA-256 runs in software (~2,000 extra instructions). Counts the server's user-space instructions for N requests of each
# kind, in steady state (sessions already cached), and prints the ratios.
#
#   bench/instructions.sh      # after bench/run.sh (reuses its data and cookies)
#
# bench/cluster.sh runs it on a cluster node: DATA and COOKIES name that
# node's data directory and cookie lines, SERVE_ARGS the rest of its command
# line (--database ... --redis ... --node-id ...), OUT_PREFIX where callgrind
# writes. The node's cache must be trusted before the warm-up (a link change
# empties it), so the script waits until /readyz no longer says "down".
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
N=${N:-2000}
PORT=${PORT:-18190}
WORK=${WORK:-/tmp/tessera-bench}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET/release/tessera
DATA=${DATA:-$WORK/data}
COOKIES=${COOKIES:-$WORK/results/cookies.txt}
SERVE_ARGS=${SERVE_ARGS:-}
OUT_PREFIX=${OUT_PREFIX:-$WORK/callgrind.out}
[[ -f $COOKIES && -d $DATA ]] || { echo "run bench/run.sh first (it creates the sessions)" >&2; exit 1; }
command -v callgrind_control >/dev/null || { echo "missing valgrind (apt-get install valgrind)" >&2; exit 1; }

export TESSERA_SERVER__LOG=warn
rm -f "$OUT_PREFIX".*
# shellcheck disable=SC2086  # SERVE_ARGS is a list of arguments
valgrind --tool=callgrind --callgrind-out-file="$OUT_PREFIX.%p" "$BIN" serve --data "$DATA" --bind "127.0.0.1:$PORT" $SERVE_ARGS \
  >"$OUT_PREFIX.log" 2>&1 &
VG=$!
trap 'kill $VG 2>/dev/null; wait $VG 2>/dev/null || true' EXIT
for _ in $(seq 200); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.2; done
for _ in $(seq 100); do curl -s "http://127.0.0.1:$PORT/readyz" | grep -q '"cluster":"down"' || break; sleep 0.2; done
[[ -z $SERVE_ARGS ]] || sleep 1  # a cluster node: its first heartbeat back starts the lease

# Warm-up: load every session into the cache and let "last seen" be written.
python3 bench/send.py "$PORT" /api/session "$N" "$COOKIES"

# A cluster node also works while no request comes (heartbeats every 200 ms:
# its own and its peers' frames). With IDLE_SECONDS set, that background rate
# is counted over an idle window first and subtracted from each measurement
# in proportion to its duration.
IDLE_SECONDS=${IDLE_SECONDS:-}
RATE=0
counted() { # command... -> "instructions seconds" while it ran
  local s e f
  callgrind_control -z "$VG" >/dev/null
  s=$(date +%s.%N)
  "$@"
  e=$(date +%s.%N)
  callgrind_control -d "$VG" >/dev/null
  # shellcheck disable=SC2012  # our own file names
  f=$(ls -t "$OUT_PREFIX.$VG".* | head -1)
  awk -v s="$s" -v e="$e" '/^summary:/ {printf "%.0f %.3f\n", $2, e - s}' "$f"
}
RAW=""
measure() { # label path cookies expected-status; sets M (instructions per request)
  local instr secs
  read -r instr secs < <(counted python3 bench/send.py "$PORT" "$2" "$N" "$3" "$4")
  RAW+="${RAW:+; }$1 $((instr / N)) in $secs s"
  M=$(awk -v i="$instr" -v r="$RATE" -v t="$secs" -v n="$N" 'BEGIN {printf "%.0f", (i - r * t) / n}')
}
if [[ -n $IDLE_SECONDS ]]; then
  read -r idle_instr idle_secs < <(counted sleep "$IDLE_SECONDS")
  RATE=$(awk -v i="$idle_instr" -v t="$idle_secs" 'BEGIN {printf "%.0f", i / t}')
fi
measure bare /healthz "$COOKIES" 200; bare=$M
measure anon /api/session - 401; anon=$M
measure session /api/session "$COOKIES" 200; sess=$M
echo "| request | instructions/request | bare / this |"
echo "|---|---:|---:|"
echo "| bare GET /healthz (same cookies) | $bare | 1.000 |"
echo "| GET /api/session, no cookie (layer + 401) | $anon | $(awk -v a="$bare" -v b="$anon" 'BEGIN{printf "%.3f", a/b}') |"
echo "| GET /api/session, $N rotating sessions | $sess | $(awk -v a="$bare" -v b="$sess" 'BEGIN{printf "%.3f", a/b}') |"
if [[ -n $IDLE_SECONDS ]]; then
  echo
  echo "Idle background: $RATE instructions/s (over ${idle_secs} s), subtracted. Before subtraction, per request: $RAW."
fi

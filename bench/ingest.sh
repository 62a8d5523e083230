#!/usr/bin/env bash
# Tessera's page-view ingestion into the embedded store, measured in one run
# (the issue's target: >= 50,000 events/s sustained with p99 acknowledgement
# latency < 10 ms, and bounded memory). The load is POST /monitor/SITE/events
# (the tag's lean path: a signed ticket, BATCH page views per request, 202
# once queued), rotating among VISITS real visits opened by one
# POST /monitor/SITE/hit each, so the per-visit limit (5 events/s, burst 60)
# is not what is measured.
#   1. sustained: ROUNDS rounds of DUR offered at RATE events/s (wrk paced by
#      bench/ingest_events.lua), then one round of MAX_DUR as fast as CONNS
#      connections go, and one of SINGLE_DUR with 1 event per request. Each:
#      events/s acknowledged (202s x events per request) AND events/s written
#      (rows of page_events in DATA/tessera.db counted just before and just
#      after; the writer must keep up: no 503, little backlog), p50/p99
#      (wrk --latency), server CPU in total and by thread (HTTP workers vs the
#      SQLite writer: CPU, context switches, time waiting for the core), the
#      share of CPU 0 other processes took (the VM is shared), RSS;
#   2. where the CPU goes: perf record over a paced run and a 1-event run,
#      summed by kind of work and thread (if perf works; PROFILE=0 skips);
#   3. burst: BURST_CONNS connections x BURST_BATCH events for BURST_DUR, more
#      than the store can absorb: the queue's 32 MiB budget fills, intake
#      answers 503 + Retry-After; RSS sampled every 0.2 s; then the drain;
#      SQLite's own heap (and its page caches) read through gdb between
#      rounds, if gdb is installed (GDB=0 skips);
#   4. every event acknowledged to wrk is in the table, also after SIGTERM.
# Embedded store: SQLite (WAL, synchronous=NORMAL), the default. The server
# runs with --demo, which lets the demo shop (http://localhost:NNNN, read from
# the banner) embed site 1001: that origin is every request's Origin and the
# origin of every event's URL.
#
#   CARGO_TARGET_DIR=/work/target-bench bench/ingest.sh   # everything: 2-3 min after the build
#   ROUNDS=1 VISITS=5000 PROFILE=0 bench/ingest.sh        # shorter
#   RATE=80000 bench/ingest.sh                            # another offered rate
#
# Server pinned to CPU 0; wrk, the ticket maker, row counts, perf and the RSS
# sampler to CPU 1. Raw output under $WORK/results; the tables go to $OUT
# (bench/INGEST_RESULTS.md). Needs ~1.5 GB free under $WORK (the database,
# deleted at the end unless KEEP_DATA=1).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

VISITS=${VISITS:-20000}
BATCH=${BATCH:-10}
CONNS=${CONNS:-64}
DUR=${DUR:-10s}
ROUNDS=${ROUNDS:-3}
RATE=${RATE:-50000}
MAX_DUR=${MAX_DUR:-10s}
SINGLE_DUR=${SINGLE_DUR:-5s}
BURST_CONNS=${BURST_CONNS:-256}
BURST_BATCH=${BURST_BATCH:-50}
BURST_DUR=${BURST_DUR:-10s}
PORT=${PORT:-18280}
SITE=${SITE:-1001}
WORK=${WORK:-/tmp/tessera-ingest}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
OUT=${OUT:-$ROOT/bench/INGEST_RESULTS.md}
CMD="${INGEST_CMD:-bench/ingest.sh}"

LOADAVG=$(cut -d" " -f1-3 /proc/loadavg)
for tool in wrk curl python3 taskset; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install wrk curl python3 util-linux)" >&2; exit 1; }
done
rm -rf "$WORK"; mkdir -p "$WORK/results"
# The database grows by ~300 bytes per event (about 1 GB over a full run); it
# is deleted at the end unless KEEP_DATA=1.
free_mb=$(df -Pm "$WORK" | awk 'NR==2 {print $4}')
((free_mb >= ${MIN_FREE_MB:-1500})) || { echo "only $free_mb MB free under $WORK; the run needs ~1.5 GB (MIN_FREE_MB to override)" >&2; exit 1; }
RES=$WORK/results DATA=$WORK/data DB=$WORK/data/tessera.db

echo "== cargo build --release -p tessera" >&2
# What is measured: the commit built, and whether other files were changed then.
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo '?')
DIRTY=$(git status --porcelain -- crates Cargo.toml Cargo.lock 2>/dev/null | awk '$2 !~ /\/tests\// {n++} END {print n+0}')
[[ $DIRTY == 0 ]] && BUILT="commit $COMMIT" || BUILT="commit $COMMIT plus $DIRTY uncommitted changed source files"
cargo build --release -p tessera >&2
BIN=$TARGET/release/tessera
# Everything from here on but the server runs on the client CPU.
taskset -cp "$CLIENT_CPU" $$ >/dev/null

SERVER_PID="" SAMPLER=""
cleanup() {
  [[ -n $SAMPLER ]] && kill "$SAMPLER" 2>/dev/null
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  [[ ${KEEP_DATA:-0} == 1 ]] || rm -rf "$DATA"
  true
}
trap cleanup EXIT INT TERM

# Cheap Argon2 only so that --demo's account seeding takes no time and
# Argon2's memory stays out of the peak RSS; hashing is on no path measured.
export TESSERA_PASSWORD__ARGON2_MEMORY_KIB=256 TESSERA_PASSWORD__ARGON2_ITERATIONS=1
export TESSERA_SERVER__LOG=warn
taskset -c "$SERVER_CPU" "$BIN" serve --demo --data "$DATA" --bind "127.0.0.1:$PORT" >"$WORK/banner.txt" 2>"$WORK/server.log" &
SERVER_PID=$!
BASE=http://127.0.0.1:$PORT
ORIGIN=""
for _ in $(seq 300); do
  # The demo shop's origin, which --demo lets embed the site.
  ORIGIN=$(sed -n 's|.*Demo customer website.*\(http://localhost:[0-9]*\).*|\1|p' "$WORK/banner.txt" 2>/dev/null | head -n1)
  [[ -n $ORIGIN ]] && curl -sf -o /dev/null "$BASE/healthz" && break
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "the server exited; see $WORK/server.log" >&2; exit 1; }
  sleep 0.1
done
[[ -n $ORIGIN ]] || { echo "no demo shop origin in the banner ($WORK/banner.txt)" >&2; exit 1; }
echo "== server pid $SERVER_PID on $BASE, embedding origin $ORIGIN (the demo shop)" >&2

# --- helpers ---------------------------------------------------------------
CLK_TCK=$(getconf CLK_TCK)
status_kib() { awk -v k="$1:" '$1==k {print $2}' "/proc/$SERVER_PID/status"; }
mib() { awk -v k="$1" 'BEGIN{printf "%.1f MiB", k/1024}'; }
mib_or() { if [[ $1 == - || -z $1 ]]; then echo "n/a"; else mib "$1"; fi; }
server_ticks() { awk '{print $14+$15}' "/proc/$SERVER_PID/stat"; }
# CPU ticks by thread name (comm, truncated to 15 characters by the kernel).
thread_ticks() {
  for f in /proc/"$SERVER_PID"/task/*/stat; do cat "$f" 2>/dev/null || true; done |
    sed -E 's/^[0-9]+ \((.*)\) /\1\t/' |
    awk -F'\t' '{split($2, a, " "); t[$1] += a[12] + a[13]} END {for (k in t) print k "\t" t[k]}' | LC_ALL=C sort -t $'\t' -k1,1
}
# Nanoseconds spent runnable but waiting for the CPU (schedstat), by thread name.
thread_waits() {
  for t in /proc/"$SERVER_PID"/task/*; do
    printf '%s\t%s\n' "$(cat "$t/comm" 2>/dev/null)" "$(awk '{print $2}' "$t/schedstat" 2>/dev/null)"
  done | awk -F'\t' '$2 != "" {t[$1]+=$2} END {for (k in t) print k "\t" t[k]}' | LC_ALL=C sort -t $'\t' -k1,1
}
# Context switches (voluntary + involuntary) by thread name.
thread_switches() {
  for f in /proc/"$SERVER_PID"/task/*/status; do cat "$f" 2>/dev/null || true; done |
    awk '$1=="Name:" {n=$2; for (i=3; i<=NF; i++) n=n " " $i} $1 ~ /ctxt_switches:$/ {t[n]+=$2} END {for (k in t) print k "\t" t[k]}' |
    LC_ALL=C sort -t $'\t' -k1,1
}
rows() {
  python3 - "$DB" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True, timeout=30)
print(db.execute("SELECT COUNT(*) FROM page_events").fetchone()[0])
EOF
}
now() { date +%s.%N; }
# Waits until page_events holds at least $1 rows and stops growing (60 s at
# most; requests still in flight when wrk stopped are answered and queued
# too); prints the seconds it took.
wait_rows() {
  local want=$1 s have last=-1
  s=$(now)
  for _ in $(seq 300); do
    have=$(rows)
    ((have >= want && have == last)) && break
    last=$have
    sleep 0.2
  done
  awk -v s="$s" -v e="$(now)" 'BEGIN{printf "%.1f", e-s}'
}
start_sampler() { # file: VmRSS in KiB every 0.2 s
  (while :; do awk -v t="$(now)" '/^VmRSS:/ {print t, $2}' "/proc/$SERVER_PID/status" 2>/dev/null || exit 0; sleep 0.2; done) >"$1" &
  SAMPLER=$!
}
stop_sampler() { kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null || true; SAMPLER=""; }
max_rss() { awk '$2>m {m=$2} END {print m+0}' "$1"; }
parse_wrk() { # -> "req/s p50 p99"
  awk '/^Requests\/sec:/ {rps=$2} $1=="50%" {p50=$2} $1=="99%" {p99=$2} END {printf "%s %s %s\n", rps, p50, p99}' "$1"
}
status_count() { awk -v c="$2" '$1=="status" && $2==c {n=$3} END {print n+0}' "$1"; }
other_statuses() { awk '$1=="status" && $2!=202 && $2!=429 && $2!=503 {printf "%s%s: %s", sep, $2, $3; sep=", "} END {if (!sep) printf "-"}' "$1"; }
socket_errors() { awk '$1=="socket_errors" {s=$3+$5+$7+$9; printf "%s", (s ? "connect " $3 ", read " $5 ", write " $7 ", timeout " $9 : "-")}' "$1"; }
secs() { awk -v d="${1%s}" 'BEGIN{print d+0}'; }
per_s() { awk -v n="$1" -v d="$2" 'BEGIN{ if (d>0) printf "%.0f", n/d; else print "n/a"}'; }
pct() { awk -v t="$1" -v d="$2" -v hz="$CLK_TCK" 'BEGIN{ if (d>0) printf "%.0f%%", t/hz/d*100; else print "n/a"}'; }

# Busy and total jiffies of the server's CPU (from /proc/stat).
cpu_jiffies() { awk -v c="cpu$SERVER_CPU" '$1==c {t=0; for (i=2; i<=NF; i++) t+=$i; print t-$5-$6, t}' /proc/stat; }

# One load phase. Sets: P_RPS P_P50 P_P99 P_ACK (events acknowledged, as wrk
# saw 202s) P_ACK_S P_WRITTEN (rows added during the run) P_WRITTEN_S
# P_BACKLOG (rows added after it: queued, not yet written when wrk stopped)
# P_RATIO (written during the run / all it added) P_LATE (rows beyond P_ACK:
# requests answered after wrk stopped counting, at most conns x batch)
# P_DRAIN P_CPU (server, % of a core) P_OTHER (% of CPU 0 other processes
# took) P_US (server CPU µs per acknowledged event) P_RSS_MAX (KiB) P_WALL
# P_N503 P_KEPT (yes: no 503 and >= 95% written during the run);
# writes $RES/$label.*.
run_phase() { # label conns batch dur rate(0: closed loop)
  local label=$1 conns=$2 batch=$3 dur=$4 rate=$5 r0 r1 r2 t0 t1 s e b0 j0 b1 j1
  r0=$(rows); thread_ticks >"$RES/$label.threads0"; thread_switches >"$RES/$label.switches0"; thread_waits >"$RES/$label.waits0"; t0=$(server_ticks); read -r b0 j0 < <(cpu_jiffies)
  start_sampler "$RES/$label.rss"
  s=$(now)
  TICKET_FILE=$RES/tickets.txt ORIGIN=$ORIGIN SITE=$SITE BATCH=$batch RATE=$rate \
    wrk -t1 -c"$conns" -d"$dur" --latency -s bench/ingest_events.lua "$BASE/monitor/$SITE/events" >"$RES/$label.txt" 2>&1
  e=$(now); t1=$(server_ticks); read -r b1 j1 < <(cpu_jiffies)
  r1=$(rows)
  stop_sampler
  thread_ticks >"$RES/$label.threads1"; thread_switches >"$RES/$label.switches1"; thread_waits >"$RES/$label.waits1"
  P_WALL=$(awk -v s="$s" -v e="$e" 'BEGIN{printf "%.2f", e-s}')
  read -r P_RPS P_P50 P_P99 < <(parse_wrk "$RES/$label.txt")
  P_ACK=$(awk '$1=="events_acknowledged" {print $2}' "$RES/$label.txt")
  [[ -n $P_ACK ]] || { echo "wrk failed in $label:" >&2; cat "$RES/$label.txt" >&2; exit 1; }
  P_ACK_S=$(per_s "$P_ACK" "$(secs "$dur")")
  P_WRITTEN=$((r1 - r0))
  P_WRITTEN_S=$(per_s "$P_WRITTEN" "$P_WALL")
  P_CPU=$(pct $((t1 - t0)) "$P_WALL")
  P_OTHER=$(awk -v b=$((b1 - b0)) -v j=$((j1 - j0)) -v t=$((t1 - t0)) 'BEGIN{ if (j>0) { o=(b-t)/j*100; printf "%.0f%%", (o<0 ? 0 : o) } else print "n/a"}')
  P_US=$(awk -v t=$((t1 - t0)) -v n="$P_ACK" -v hz="$CLK_TCK" 'BEGIN{ if (n>0) printf "%.1f", t/hz/n*1e6; else print "n/a"}')
  P_RSS_MAX=$(max_rss "$RES/$label.rss")
  P_DRAIN=$(wait_rows $((r0 + P_ACK)))
  r2=$(rows)
  P_BACKLOG=$((r2 - r1))
  P_LATE=$((r2 - r0 - P_ACK))
  P_RATIO=$(awk -v w="$P_WRITTEN" -v a=$((r2 - r0)) 'BEGIN{ if (a>0) printf "%.3f", w/a; else print "n/a"}')
  P_N503=$(status_count "$RES/$label.txt" 503)
  P_KEPT=$(awk -v r="$P_RATIO" -v n="$P_N503" 'BEGIN{print (n==0 && r>=0.95 ? "yes" : "no")}')
  local ok=$(( P_LATE >= 0 && P_LATE <= conns * batch ? 1 : 0 ))
  ((ok)) || echo "WARNING: $label: $((r2 - r0)) rows added for $P_ACK events acknowledged" >&2
  LATE_TOTAL=$((LATE_TOTAL + P_LATE)); ALL_OK=$((ALL_OK && ok))
}
LATE_TOTAL=0 ALL_OK=1
# "name pct (µs/event), ..." of the server's CPU by thread over the last phase.
thread_split() { # label
  LC_ALL=C join -t $'\t' -a2 -e 0 -o 2.1,1.2,2.2 "$RES/$1.threads0" "$RES/$1.threads1" |
    awk -F'\t' -v d="$P_WALL" -v n="$P_ACK" -v hz="$CLK_TCK" '{t=($3-$2)/hz; if (t/d >= 0.005) {printf "%s%s %.0f%% (%.1f µs/event)", sep, $1, t/d*100, (n>0 ? t/n*1e6 : 0); sep=", "}}'
}
# SQLite's own heap in KiB, read through gdb: all of it (sqlite3_memory_used),
# its peak (sqlite3_memory_highwater) and the page caches' part
# (sqlite3_status64 SQLITE_STATUS_PAGECACHE_OVERFLOW: no page-cache buffer is
# configured, so every cache page counts there); the rest is mostly prepared
# statements. "- - -" without gdb. Stops the server for a moment: only between rounds.
sqlite_heap() {
  if [[ ${GDB:-1} == 1 ]] && command -v gdb >/dev/null; then
    gdb -p "$SERVER_PID" -batch -ex 'print (long long) sqlite3_memory_used()' -ex 'print (long long) sqlite3_memory_highwater(0)' \
      -ex 'set $p = (long long *) malloc(16)' -ex 'print (int) sqlite3_status64(2, $p, $p + 1, 0)' -ex 'print $p[0]' -ex 'call (void) free($p)' 2>/dev/null |
      awk '/^\$[0-9]+ = / {v[++n]=$3} END {if (n>=4) print int(v[1]/1024), int(v[2]/1024), int(v[4]/1024); else print "- - -"}'
  else
    echo "- - -"
  fi
}
# "name N, ..." context switches per 1,000 events acknowledged, by thread, over the last phase.
switch_split() { # label
  LC_ALL=C join -t $'\t' -a2 -e 0 -o 2.1,1.2,2.2 "$RES/$1.switches0" "$RES/$1.switches1" |
    awk -F'\t' -v n="$P_ACK" '{d=$3-$2; if (n>0 && d/n*1000 >= 1) {printf "%s%s %.0f", sep, $1, d/n*1000; sep=", "}}'
}
# "name N ms/s, ..." time runnable but not running (waiting for CPU $SERVER_CPU), by thread, over the last phase.
wait_split() { # label
  LC_ALL=C join -t $'\t' -a2 -e 0 -o 2.1,1.2,2.2 "$RES/$1.waits0" "$RES/$1.waits1" |
    awk -F'\t' -v d="$P_WALL" '{w=($3-$2)/1e6/d; if (w >= 1) {printf "%s%s %.0f ms/s", sep, $1, w; sep=", "}}'
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# RSS in MiB at the end of each second of a phase's samples.
rss_trace() { awk 'NR==1 {t0=$1} {s=int($1-t0); v[s]=$2; if (s>m) m=s} END {for (i=0; i<=m; i++) if (i in v) printf "%s%.0f", (i ? ", " : ""), v[i]/1024}' "$1"; }
rows_md=(); status_md=(); cpu_md=()
status_row() { # phase label
  local f=$RES/$2.txt
  status_md+=("| $1 | $(status_count "$f" 202) | $(status_count "$f" 429) | $(status_count "$f" 503) | $(other_statuses "$f") | $(socket_errors "$f") |")
}
record() { # phase label conns batch offered
  rows_md+=("| $1 | $3 | $4 | $5 | $P_RPS | **$P_ACK_S** | **$P_WRITTEN_S** | $P_RATIO | $P_BACKLOG | $P_DRAIN s | $P_KEPT | $P_P50 | **$P_P99** | $P_CPU | $P_OTHER | $P_US | $(mib "$P_RSS_MAX") |")
  status_row "$1" "$2"
  cpu_md+=("| $1 | $P_CPU | $P_US | $(thread_split "$2") | $(switch_split "$2") | $(wait_split "$2") |")
  echo "$1: acknowledged $P_ACK_S events/s, written $P_WRITTEN_S events/s, kept up: $P_KEPT, p99 $P_P99, server CPU $P_CPU ($P_US µs/event), others on CPU $SERVER_CPU $P_OTHER, 503s $P_N503" >&2
}

# --- idle, then the visits -------------------------------------------------
sleep 1
IDLE_RSS=$(status_kib VmRSS)
echo "== opening $VISITS visits (POST /monitor/$SITE/hit)" >&2
s=$(now)
python3 bench/ingest_prepare.py "$BASE" "$SITE" "$ORIGIN" "$VISITS" "$RES/tickets.txt" 8
PREP_S=$(awk -v s="$s" -v e="$(now)" 'BEGIN{printf "%.1f", e-s}')
wait_rows "$VISITS" >/dev/null
HIT_ROWS=$(rows)
[[ $HIT_ROWS == "$VISITS" ]] || { echo "expected $VISITS page views from the hits, found $HIT_ROWS" >&2; exit 1; }
# One event batch by curl: the path works and answers 202 (it is one more row).
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Origin: $ORIGIN" -H 'Content-Type: text/plain' \
  --data "{\"ticket\":\"$(head -n1 "$RES/tickets.txt")\",\"events\":[{\"url\":\"$ORIGIN/check\",\"title\":\"check\",\"referrer\":\"\",\"tab\":\"t1\"}]}" \
  "$BASE/monitor/$SITE/events")
[[ $code == 202 ]] || { echo "one event by curl gave $code, expected 202" >&2; exit 1; }
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Origin: http://evil.example" -H 'Content-Type: text/plain' \
  --data "{\"ticket\":\"$(head -n1 "$RES/tickets.txt")\",\"events\":[{\"url\":\"$ORIGIN/check\"}]}" "$BASE/monitor/$SITE/events")
[[ $code == 403 ]] || { echo "a foreign Origin gave $code, expected 403" >&2; exit 1; }
wait_rows $((VISITS + 1)) >/dev/null
sleep 1
VISITS_RSS=$(status_kib VmRSS)

# --- sustained: paced rounds at RATE, then one as fast as it goes ---------
acks=(); writes=(); p99s=(); uss=(); kept=()
for round in $(seq 1 "$ROUNDS"); do
  run_phase "paced-$round" "$CONNS" "$BATCH" "$DUR" "$RATE"
  record "$RATE/s #$round" "paced-$round" "$CONNS" "$BATCH" "$RATE"
  acks+=("$P_ACK_S"); writes+=("$P_WRITTEN_S"); p99s+=("$P_P99"); uss+=("$P_US"); kept+=("$P_KEPT")
done
PACED_TRACE=$(rss_trace "$RES/paced-1.rss")
MED_ACK=$(printf '%s\n' "${acks[@]}" | median)
MED_WRITTEN=$(printf '%s\n' "${writes[@]}" | median)
MED_US=$(printf '%s\n' "${uss[@]}" | median)
run_phase max "$CONNS" "$BATCH" "$MAX_DUR" 0
record "max" max "$CONNS" "$BATCH" "as fast as it goes"
MAX_ACK=$P_ACK_S MAX_WRITTEN=$P_WRITTEN_S MAX_US=$P_US MAX_N503=$P_N503 MAX_KEPT=$P_KEPT
# Browsers mostly send one page view per request: the same, 1 event each.
run_phase single "$CONNS" 1 "$SINGLE_DUR" 0
record "max, 1 event/req" single "$CONNS" 1 "as fast as it goes"
SINGLE_ACK=$P_ACK_S SINGLE_US=$P_US
SUSTAINED_MAX_RSS=$(max_rss <(cat "$RES"/paced-*.rss "$RES/max.rss" "$RES/single.rss"))
SUSTAINED_RSS=$(status_kib VmRSS)
read -r SUSTAINED_SQL SUSTAINED_SQL_HI SUSTAINED_PC < <(sqlite_heap)

# --- where the CPU goes (perf, if it works here; runs of their own) --------
PROFILE_MD=""
report() { perf report -i "$1" --stdio --no-children "${@:2}" 2>/dev/null | awk '/^ +[0-9.]+%/'; }
top_syms() { # perf.data comm -> markdown rows: % symbol
  report "$1" --sort sym --comms "$2" |
    awk '{pct=$1; $1=""; $2=""; sub(/^ +/, ""); sym=substr($0, 1, 100); gsub(/\|/, "\\|", sym); if (++n <= 12) print "| " pct " | `" sym "` |"}'
}
# Samples by kind of work and thread (approximate: by symbol name and object).
categories() { # perf.data -> markdown rows: kind | writer % | HTTP workers %
  report "$1" --sort comm,dso,sym | awk '
    { pct=$1+0; comm=$2; dso=$3; sym=$5; for (i=6; i<=NF; i++) sym=sym " " $i
      w = (comm ~ /^sqlx-sqlite/) ? 1 : (comm ~ /^tokio/ ? 2 : 0)
      if (dso ~ /kernel/) {
        if (sym ~ /^(finish_task_switch|__schedule|schedule|_raw_spin_unlock_irq|futex|try_to_wake_up|__switch_to|switch_mm|pick_next|update_curr|enqueue|dequeue|psi_)/) c = "kernel: context switches, wake-ups"
        else if (sym ~ /(tcp|^ip_|^__ip|sock|skb|^net_|netif|^inet|loopback|^__dev_|^sk_|datagram|epoll|ep_poll)/ || (sym ~ /_copy_to_iter|_copy_from_iter/ && w == 2)) c = "kernel: TCP (loopback), epoll"
        else if (sym ~ /(ext4|filemap|folio|^xas_|generic_perform_write|pread|pwrite|^vfs_|atime|^block_|mpage|jbd2|iomap|page_cache|copy_page_to_iter|_copy_to_iter|fsnotify|rw_verify_area|^fdget|^fput)/) c = "kernel: file I/O (SQLite reading/writing pages)"
        else c = "kernel: other (syscall entry, page faults, ...)"
      } else if (sym ~ /^(_?mi_|_int_malloc|_int_free|malloc|free|cfree|unlink_chunk|realloc|calloc|__libc_malloc|__libc_free|_int_realloc|malloc_consolidate|tcache)/) c = "allocators (mimalloc for Rust, libc malloc for SQLite)"
      else if (sym ~ /(memmove|memcpy|memset|memcmp|strlen|memchr)/) c = "memmove/memcpy/memcmp"
      else if (sym ~ /([Mm]utex|futex|^syscall$)/) c = "locks (std Mutex, pthread mutexes)"
      else if (dso == "tessera" && sym !~ /::/ && sym !~ /^</) c = "SQLite (C)"
      else if (sym ~ /sqlx/) c = "sqlx"
      else if (sym ~ /serde_json/) c = "serde_json"
      else if (sym ~ /(hyper|axum|tower|http::|httparse)/) c = "hyper/axum"
      else if (sym ~ /tokio/) c = "tokio runtime"
      else if (sym ~ /(tessera|governor|sha2|hmac|base64)/) c = "Tessera code (+ HMAC, rate limiter)"
      else if (sym ~ /^<?(core|alloc|std|hashbrown|bytes|futures)/) c = "Rust std, hashbrown, bytes, futures"
      else c = "other user code (libc I/O wrappers, vdso, ...)"
      v[c, w] += pct; tot[c] += pct
    }
    END { for (c in tot) printf "%s\t%.1f%%\t%.1f%%\t%.1f%%\n", c, v[c, 1], v[c, 2], tot[c] }' |
    sort -t $'\t' -k4,4 -g -r | awk -F'\t' '{print "| " $1 " | " $2 " | " $3 " | " $4 " |"}'
}
profile_run() { # label title conns batch dur rate
  local data=$RES/$1.perf.data pid
  perf record -q -F 1999 -o "$data" -p "$SERVER_PID" 2>"$RES/$1.perf.log" &
  pid=$!
  run_phase "$1" "$3" "$4" "$5" "$6"
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  echo "### $2"
  echo
  echo "$P_ACK_S events/s acknowledged over $5, server CPU $P_CPU, $P_US µs/event ($(thread_split "$1")). Samples by thread and object (% of all): $(report "$data" --sort comm,dso | awk '{printf "%s%s in %s %s", sep, $2, $3, $1; sep="; "}')."
  echo
  echo "| kind of work (by symbol; approximate) | writer thread | HTTP workers | all |"; echo "|---|---:|---:|---:|"
  categories "$data"
  echo
  echo "| writer thread \`sqlx-sqlite-wor\` | symbol |"; echo "|---:|---|"
  top_syms "$data" sqlx-sqlite-wor
  echo
  echo "| HTTP workers \`tokio-rt-worker\` | symbol |"; echo "|---:|---|"
  top_syms "$data" tokio-rt-worker
  echo
}
if [[ ${PROFILE:-1} == 1 ]] && command -v perf >/dev/null && perf record -q -o /dev/null -- true 2>/dev/null; then
  echo "== profiling with perf: a paced run, then one with 1 event per request" >&2
  {
    echo "## Where the server's CPU goes"
    echo
    echo "\`perf record -F 1999 -p SERVER\` over two more runs (% = share of all the run's samples; \`[k]\` = kernel). The HTTP workers also run the writer task's Rust side (building the INSERT text, binding)."
    echo
  } >"$RES/profile.md"
  profile_run profile "$RATE events/s offered, $BATCH events per request" "$CONNS" "$BATCH" 5s "$RATE" >>"$RES/profile.md"
  profile_run profile-single "as fast as it goes, 1 event per request" "$CONNS" 1 5s 0 >>"$RES/profile.md"
  PROFILE_MD=$(cat "$RES/profile.md")
fi

# --- burst -----------------------------------------------------------------
echo "== burst: $BURST_CONNS connections x $BURST_BATCH events for $BURST_DUR" >&2
sleep 2 # the per-visit limiter refills a little
run_phase burst "$BURST_CONNS" "$BURST_BATCH" "$BURST_DUR" 0
record burst burst "$BURST_CONNS" "$BURST_BATCH" "as fast as it goes"
B503=$P_N503 BURST_RSS_MAX=$P_RSS_MAX
BURST_TRACE=$(rss_trace "$RES/burst.rss")
sleep 1
AFTER_RSS=$(status_kib VmRSS)
HWM=$(status_kib VmHWM)
read -r AFTER_SQL AFTER_SQL_HI AFTER_PC < <(sqlite_heap)
DB_CONNS=$(find "/proc/$SERVER_PID/fd" -lname "$DB" 2>/dev/null | wc -l)

# --- a graceful stop loses nothing -----------------------------------------
FINAL_ROWS=$(rows)
kill -TERM "$SERVER_PID"
for _ in $(seq 300); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$SERVER_PID" 2>/dev/null && { echo "WARNING: the server did not stop within 30 s of SIGTERM; killing it" >&2; kill -KILL "$SERVER_PID"; }
wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
STOP_ROWS=$(rows)
DB_SIZE=$(du -sh "$DATA" | awk '{print $1}')
[[ ${KEEP_DATA:-0} == 1 ]] || rm -rf "$DATA"

MACHINE="$(nproc --all)-core VM ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), Linux $(uname -r)"
{
  echo "# Ingestion benchmark results"
  echo
  echo "Produced by \`$CMD\` on $(date -u +%Y-%m-%d) ($(date -u +%H:%M) UTC), $BUILT (built at the start), on a $MACHINE, shared with other work (load average at the start: $LOADAVG)."
  echo "Server (\`tessera serve --demo\`, embedded SQLite store, release build) pinned to CPU $SERVER_CPU; wrk (1 thread), the ticket maker, row counts, perf and the RSS sampler pinned to CPU $CLIENT_CPU."
  echo "Load: \`POST /monitor/$SITE/events\` (text/plain JSON, Origin \`$ORIGIN\`: the demo shop, which \`--demo\` lets embed the site), tickets rotated over $VISITS visits opened by real \`POST /monitor/$SITE/hit\`s ($PREP_S s); each event ~150 bytes of JSON (URL, title, referrer, tab)."
  echo "Target (issue): ≥ 50,000 events/s sustained with p99 < 10 ms and bounded memory."
  echo
  echo "## Sustained ingestion and the burst"
  echo
  echo "Rounds *$RATE/s* offer $RATE events/s (wrk paced by \`bench/ingest_events.lua\`, ${DUR} each, $CONNS connections, $BATCH events per request); *max* goes as fast as $CONNS connections go for $MAX_DUR (and for $SINGLE_DUR with 1 event per request, as most browsers send them); *burst* is $BURST_CONNS connections × $BURST_BATCH events for $BURST_DUR."
  echo "*Acknowledged* = 202 answers (as wrk counted them) × events per request ÷ wrk's duration. *Written* = rows added to \`page_events\` between counts just before and just after the run ÷ that wall time. *Backlog* = rows added after wrk stopped (queued, not yet written); *written / all* = rows added during the run ÷ all the run added; *drain* = until the table stopped growing; *kept up* = no 503 and ≥ 95% written during the run. *Others on CPU $SERVER_CPU* = the share of the server's core other processes on the VM took. *µs/event* = server CPU time ÷ events acknowledged (steadier than events/s on this shared VM: 1e6 ÷ it is what a whole core would sustain)."
  echo
  echo "| round | conns | events/req | offered events/s | req/s | events/s acknowledged | events/s written | written / all | backlog at end | drain | kept up | p50 | p99 | server CPU | others on CPU $SERVER_CPU | µs/event | max RSS |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${rows_md[@]}"
  echo
  echo "**At $RATE events/s offered (median of $ROUNDS rounds): $MED_ACK events/s acknowledged, $MED_WRITTEN events/s written, $MED_US µs of server CPU per event; writer kept up: ${kept[*]}; p99: ${p99s[*]}. As fast as it goes: $MAX_ACK acknowledged, $MAX_WRITTEN written ($MAX_N503 answers 503; kept up: $MAX_KEPT), $MAX_US µs/event; with 1 event per request: $SINGLE_ACK events/s acknowledged, $SINGLE_US µs/event.**"
  echo
  echo "## Answers by status"
  echo
  echo "| round | 202 accepted | 429 rate-limited | 503 queue full | other | socket errors |"
  echo "|---|---:|---:|---:|---|---|"
  printf '%s\n' "${status_md[@]}"
  echo
  echo "## Memory (server VmRSS / VmHWM from /proc)"
  echo
  echo "| when | VmRSS | SQLite's heap (peak so far) | of which page caches |"
  echo "|---|---:|---:|---:|"
  echo "| idle, after start | $(mib "$IDLE_RSS") | | |"
  echo "| idle, after $VISITS visits opened | $(mib "$VISITS_RSS") | | |"
  echo "| sustained rounds, highest sample (every 0.2 s) | $(mib "$SUSTAINED_MAX_RSS") | | |"
  echo "| after the sustained rounds, queue drained | $(mib "$SUSTAINED_RSS") | $(mib_or "$SUSTAINED_SQL") ($(mib_or "$SUSTAINED_SQL_HI")) | $(mib_or "$SUSTAINED_PC") |"
  echo "| burst ($BURST_CONNS conns × $BURST_BATCH events, $B503 answers 503), highest sample | $(mib "$BURST_RSS_MAX") | | |"
  echo "| after the burst, queue drained | $(mib "$AFTER_RSS") | $(mib_or "$AFTER_SQL") ($(mib_or "$AFTER_SQL_HI")) | $(mib_or "$AFTER_PC") |"
  echo "| peak over the whole run (VmHWM) | **$(mib "$HWM")** | | |"
  echo
  echo "SQLite's heap is read with gdb once the queue has drained (\`sqlite3_memory_used()\`, \`sqlite3_memory_highwater(0)\`; page caches: \`sqlite3_status64(SQLITE_STATUS_PAGECACHE_OVERFLOW)\`, at most 2 MiB per connection by default; $DB_CONNS connections to the database open at the end). The rest of it is, almost all, the connections' cached prepared statements."
  echo "RSS, MiB, at each second of the first paced round: $PACED_TRACE; of the burst: $BURST_TRACE. The queue's budget is 32 MiB of event bytes (\`IngestConfig::default\`)."
  echo
  echo "## Server CPU by thread (% of one core; the server has CPU $SERVER_CPU only)"
  echo
  echo "| round | server total | µs/event | by thread | context switches per 1,000 events | waiting for the CPU (runnable, not running) |"
  echo "|---|---:|---:|---|---|---|"
  printf '%s\n' "${cpu_md[@]}"
  echo
  [[ -n $PROFILE_MD ]] && printf '%s\n\n' "$PROFILE_MD"
  echo "## Integrity"
  echo
  echo "Every event acknowledged to wrk was written: $([[ $ALL_OK == 1 ]] && echo yes || echo "NO (see the warnings)"). $LATE_TOTAL rows more than wrk's 202s: requests answered after wrk stopped counting (at most connections × events per request per round)."
  echo "page_events: $FINAL_ROWS rows before SIGTERM, $STOP_ROWS after the graceful stop. Data directory at the end: $DB_SIZE."
} | tee "$OUT"
echo "== wrote $OUT (raw output in $RES)" >&2

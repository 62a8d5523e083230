#!/usr/bin/env bash
# Tessera's per-request session cost in cluster mode, measured in one run:
#   - sqlite:   one node, embedded store (bench/run.sh's setup);
#   - pg+redis: one node with --database postgres://... --redis redis://...
#               --node-id node1;
#   - nginx:    three nodes (same PostgreSQL and Redis, one secret key)
#               behind nginx running deploy/nginx.conf, with the ports and
#               paths replaced as crates/tessera/tests/cluster.rs does;
#   - peer:     tower-sessions' Redis store (ts-redis) and the bare axum
#               route from ../shared/bench/peers, on a Redis of its own.
# Each mode: GET /api/session with NSESS distinct live sessions (real logins,
# rotated by bench/rotate.lua) against GET /healthz of the same server with
# the same cookies (peer: GET /hello). Rounds alternate bare and session and
# run every mode; summaries are medians over rounds.
#
# Everything server-side (nodes, nginx, Redis, PostgreSQL, peers) is pinned
# to CPU 0 and wrk to CPU 1, so the three nodes share one core: the nginx
# mode shows the per-request overhead of the proxy and the cluster, not a
# speed-up. CPU per request is counted per process group from /proc.
#
# Cookies: cluster modes send `__Host-ts_node` as a browser would after its
# first response: `node1` to the pg+redis node; through nginx, session i gets
# node ((i-1) mod 3)+1, so nginx pins each session to one node and each node
# caches a third of them.
#
# After the rounds: cold-cache passes (each session once, right after node
# restarts: shared tier empty; then another node with the shared tier
# filled), and the node with Redis stopped (cache untrusted: the store on
# every request).
#
#   CARGO_TARGET_DIR=/work/target-bench bench/cluster.sh
#   ROUNDS=1 NSESS=2000 DUR=2s SKIP_PEER=1 bench/cluster.sh   # shorter
#
# Needs wrk, curl, python3, taskset, psql + PostgreSQL server binaries,
# redis-server, redis-cli, nginx. A private PostgreSQL (.ci/postgres.sh with
# its data under $WORK) is started and stopped. Raw output under
# $WORK/results; the tables also go to $OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

DUR=${DUR:-4s}
CONNS=${CONNS:-64}
NSESS=${NSESS:-10000}
ROUNDS=${ROUNDS:-5}
WORK=${WORK:-/tmp/tessera-cluster-bench}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
PEERS=${PEERS:-$ROOT/../shared/bench/peers}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
OUT=${OUT:-$WORK/cluster.md}
NODES=(node1 node2 node3)

# shellcheck source=bench/lib.sh
. bench/lib.sh
need_tools wrk curl python3 taskset psql redis-server redis-cli
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x $NGINX ]] || { echo "missing nginx (apt-get install nginx)" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

LOAD_START=$(loadavg)
TOP_START=$(top -bn1 | head -n 15)
rm -rf "$WORK"; mkdir -p "$WORK/results"; chmod 755 "$WORK"
RES=$WORK/results

COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo '?')
DIRTY=$(git status --porcelain -- crates Cargo.toml Cargo.lock 2>/dev/null | awk 'END {print NR}')
[[ $DIRTY == 0 ]] && BUILT="commit $COMMIT" || BUILT="commit $COMMIT plus $DIRTY uncommitted changed files under crates/ or Cargo.*"
echo "== cargo build --release -p tessera ($BUILT)" >&2
cargo build --release -p tessera >&2
BIN=$TARGET/release/tessera
if [[ -z ${SKIP_PEER:-} ]]; then
  echo "== cargo build --release (peers, their own Cargo.lock, into $TARGET)" >&2
  (cd "$PEERS" && CARGO_TARGET_DIR=$TARGET cargo build --release --locked >&2)
  PEER_BIN=$TARGET/release/peer-server
fi

# --- processes, all stopped by the trap --------------------------------------
SQLITE_PID="" NGINX_PID="" REDIS_PID="" PEER_REDIS_PID="" PEER_BARE_PID="" PEER_TS_PID="" PG_STARTED=""
declare -A NODE_PID=() NODE_PORT=()
stop_pid() { # pid: TERM, wait up to 10 s, then KILL
  local _
  [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null || return 0
  kill "$1" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
cleanup() {
  local id
  stop_pid "$NGINX_PID"
  for id in "${!NODE_PID[@]}"; do stop_pid "${NODE_PID[$id]}"; done
  stop_pid "$SQLITE_PID"; stop_pid "$PEER_BARE_PID"; stop_pid "$PEER_TS_PID"
  stop_pid "$REDIS_PID"; stop_pid "$PEER_REDIS_PID"
  [[ -z $PG_STARTED ]] || .ci/postgres.sh stop
  rm -f "$WORK"/nginx/logs/*access.log  # large; the tallies are in $RES
}
trap cleanup EXIT INT TERM

bench_env
EMAIL=bench@example.com PASSWORD=bench-password-123

# --- PostgreSQL (private, pinned to CPU 0) and Redis --------------------------
export TESSERA_CI_PGDATA=$WORK/pg TESSERA_CI_PGPORT=${PGPORT:-$(free_port)}
echo "== PostgreSQL on 127.0.0.1:$TESSERA_CI_PGPORT (data $TESSERA_CI_PGDATA)" >&2
PG_STARTED=1
pg_env=$(taskset -c "$SERVER_CPU" .ci/postgres.sh start)
eval "$pg_env"  # export TESSERA_TEST_POSTGRES=postgres://tessera@127.0.0.1:PORT/postgres
PG_PM=$(head -n1 "$TESSERA_CI_PGDATA/postmaster.pid")
psql -q "$TESSERA_TEST_POSTGRES" -c "CREATE DATABASE tessera_bench" >&2
DB_URL=${TESSERA_TEST_POSTGRES%/postgres}/tessera_bench
pg_pids() { echo "$PG_PM"; ps -o pid= --ppid "$PG_PM"; }

start_redis() { # port dir -> prints the PID
  mkdir -p "$2"
  taskset -c "$SERVER_CPU" redis-server --port "$1" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
    --dir "$2" --logfile "$2/redis.log" >/dev/null 2>&1 &
  echo $!
}
wait_redis() { # port
  local _
  for _ in $(seq 50); do redis-cli -p "$1" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "redis-server on port $1 did not answer" >&2; exit 1
}
REDIS_PORT=$(free_port)
REDIS_PID=$(start_redis "$REDIS_PORT" "$WORK/redis")
wait_redis "$REDIS_PORT"
REDIS_URL=redis://127.0.0.1:$REDIS_PORT
redis_cmds() { redis-cli -p "$1" info stats 2>/dev/null | awk -F: '/^total_commands_processed:/ {print $2+0}'; }

# --- mode sqlite: one node, embedded store -----------------------------------
SQLITE_PORT=$(free_port)
echo "$PASSWORD" | "$BIN" user add --data "$WORK/sqlite" --email "$EMAIL" --role user --password-stdin >&2
taskset -c "$SERVER_CPU" "$BIN" serve --data "$WORK/sqlite" --bind "127.0.0.1:$SQLITE_PORT" >"$WORK/sqlite.log" 2>&1 &
SQLITE_PID=$!
wait_http "http://127.0.0.1:$SQLITE_PORT/healthz" "$SQLITE_PID"
echo "== sqlite: creating $NSESS sessions by logging in" >&2
make_sessions "http://127.0.0.1:$SQLITE_PORT" "$EMAIL" "$PASSWORD" "$NSESS" "$RES/sqlite-cookies.txt"

# --- the cluster: schema, person, node1; sessions through node1 --------------
NGINX_PORT=$(free_port)
PUBLIC=http://127.0.0.1:$NGINX_PORT
for id in "${NODES[@]}"; do
  NODE_PORT[$id]=$(free_port)
  mkdir -m 700 "$WORK/$id"
  printf '[server]\ntrusted_proxies = ["127.0.0.1"]\n' >"$WORK/$id/tessera.toml"
done
"$BIN" migrate --data "$WORK/node1" --database "$DB_URL" >&2
echo "$PASSWORD" | "$BIN" user add --data "$WORK/node1" --database "$DB_URL" --email "$EMAIL" --role user --password-stdin >&2

start_node() { # id: starts it, waits until its cache may answer (link up, then a heartbeat round trip)
  local id=$1 base _
  base=http://127.0.0.1:${NODE_PORT[$id]}
  taskset -c "$SERVER_CPU" "$BIN" serve --data "$WORK/$id" --database "$DB_URL" --redis "$REDIS_URL" --node-id "$id" \
    --bind "127.0.0.1:${NODE_PORT[$id]}" --public-url "$PUBLIC" >>"$WORK/$id.log" 2>&1 &
  NODE_PID[$id]=$!
  wait_http "$base/healthz" "${NODE_PID[$id]}"
  for _ in $(seq 100); do curl -s "$base/readyz" | grep -q '"cluster":"up"' && break; sleep 0.1; done
  curl -s "$base/readyz" | grep -q '"cluster":"up"' || { echo "$id: the cluster link did not come up" >&2; exit 1; }
  sleep 0.5
  [[ ! -e $WORK/$id/tessera.db ]] || { echo "$id made an embedded database: it should be on PostgreSQL" >&2; exit 1; }
}
start_node node1
for id in node2 node3; do install -m 600 "$WORK/node1/secret.key" "$WORK/$id/secret.key"; done
N1=http://127.0.0.1:${NODE_PORT[node1]}
echo "== pg+redis: creating $NSESS sessions by logging in on node1" >&2
make_sessions "$N1" "$EMAIL" "$PASSWORD" "$NSESS" "$RES/pg-sessions.txt"
awk '{print $0 "; __Host-ts_node=node1"}' "$RES/pg-sessions.txt" >"$RES/pg-cookies.txt"
awk '{printf "%s; __Host-ts_node=node%d\n", $0, (NR-1)%3+1}' "$RES/pg-sessions.txt" >"$RES/nginx-cookies.txt"
node_setcookies() { # url cookie -> how many Set-Cookie: __Host-ts_node the answer carried
  curl -s -D - -o /dev/null -H "Cookie: $2" "$1" | grep -ci '^set-cookie: __Host-ts_node' || true
}
[[ $(node_setcookies "$N1/api/session" "$(head -n1 "$RES/pg-cookies.txt")") == 0 ]] \
  || { echo "node1 sets __Host-ts_node although the request named node1" >&2; exit 1; }
[[ $(node_setcookies "$N1/api/session" "$(head -n1 "$RES/pg-sessions.txt")") == 1 ]] \
  || { echo "node1 did not set __Host-ts_node on a request without it" >&2; exit 1; }

# --- nodes 2 and 3, nginx ----------------------------------------------------
start_node node2
start_node node3
mkdir -p "$WORK/nginx/logs" "$WORK/nginx/temp"
conf=$(<deploy/nginx.conf)
# The replacements crates/tessera/tests/cluster.rs makes (deploy/nginx.conf's header).
for pair in "listen 8080;|listen 127.0.0.1:$NGINX_PORT;" \
  "127.0.0.1:8081|127.0.0.1:${NODE_PORT[node1]}" "127.0.0.1:8082|127.0.0.1:${NODE_PORT[node2]}" \
  "127.0.0.1:8083|127.0.0.1:${NODE_PORT[node3]}" "/run/nginx.pid|$WORK/nginx/nginx.pid" \
  "/var/log/nginx/|$WORK/nginx/logs/" "/var/lib/nginx/|$WORK/nginx/temp/"; do
  from=${pair%%|*} to=${pair#*|}
  [[ $conf == *"$from"* ]] || { echo "deploy/nginx.conf no longer contains '$from'" >&2; exit 1; }
  conf=${conf//"$from"/"$to"}
done
printf '%s\n' "$conf" >"$WORK/nginx/nginx.conf"
taskset -c "$SERVER_CPU" "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/logs/startup-error.log" \
  -g "daemon off;" >"$WORK/nginx/logs/stdout.log" 2>&1 &
NGINX_PID=$!
wait_http "$PUBLIC/healthz" "$NGINX_PID"
ACCESS_LOG=$WORK/nginx/logs/tessera-access.log
nginx_pids() { echo "$NGINX_PID"; ps -o pid= --ppid "$NGINX_PID"; }
NGINX_WORKERS=$(ps -o pid= --ppid "$NGINX_PID" | wc -l)
for n in 1 2 3; do
  line=$(sed -n "${n}p" "$RES/nginx-cookies.txt")
  [[ $(node_setcookies "$PUBLIC/api/session" "$line") == 0 ]] \
    || { echo "through nginx, a request naming node$n got a new __Host-ts_node (routed elsewhere?)" >&2; exit 1; }
done
# node port -> node id, for the access log tallies
PORT_NODE=$(for id in "${NODES[@]}"; do printf '%s=%s ' "${NODE_PORT[$id]}" "$id"; done)
nginx_tally() { # label: per node, requests nginx sent there; requests sent to another node than their cookie named
  awk -v map="$PORT_NODE" 'BEGIN {n = split(map, a, " "); for (i = 1; i <= n; i++) {split(a[i], kv, "="); node[kv[1]] = kv[2]}}
    match($0, /node_cookie="[^"]*"/) {c = substr($0, RSTART + 13, RLENGTH - 14)}
    match($0, /upstream="[^"]*"/) {u = substr($0, RSTART + 10, RLENGTH - 11); sub(/.*:/, "", u); got = node[u]; seen[got]++; if (c != "" && c != got) bad++}
    END {printf "node1 %d, node2 %d, node3 %d; not the cookie'"'"'s node: %d", seen["node1"], seen["node2"], seen["node3"], bad}' "$ACCESS_LOG" \
    >"$RES/$1.tally"
  : >"$ACCESS_LOG"
}

# --- the peer: bare axum and tower-sessions' Redis store ---------------------
wait_any_http() { # url pid: any HTTP answer
  local _
  for _ in $(seq 100); do
    curl -s -o /dev/null "$1" && return 0
    kill -0 "$2" 2>/dev/null || { echo "pid $2 exited before $1 answered" >&2; exit 1; }
    sleep 0.1
  done
  echo "$1 did not answer" >&2; exit 1
}
if [[ -z ${SKIP_PEER:-} ]]; then
  PEER_REDIS_PORT=$(free_port)
  PEER_REDIS_PID=$(start_redis "$PEER_REDIS_PORT" "$WORK/peer-redis")
  wait_redis "$PEER_REDIS_PORT"
  PEER_BARE_PORT=$(free_port) PEER_TS_PORT=$(free_port)
  taskset -c "$SERVER_CPU" "$PEER_BIN" --mode bare --port "$PEER_BARE_PORT" 2>>"$WORK/peer.log" &
  PEER_BARE_PID=$!
  taskset -c "$SERVER_CPU" "$PEER_BIN" --mode ts-redis --port "$PEER_TS_PORT" --redis-url "redis://127.0.0.1:$PEER_REDIS_PORT" 2>>"$WORK/peer.log" &
  PEER_TS_PID=$!
  wait_any_http "http://127.0.0.1:$PEER_BARE_PORT/hello" "$PEER_BARE_PID"
  wait_any_http "http://127.0.0.1:$PEER_TS_PORT/hello" "$PEER_TS_PID"
  echo "== peer ts-redis: creating $NSESS sessions" >&2
  taskset -c "$CLIENT_CPU" python3 "$PEERS/make_cookies.py" "$PEER_TS_PORT" "$NSESS" "$RES/peer-cookies.txt" >&2
  head -n1 "$RES/peer-cookies.txt" >"$RES/peer-cookie1.txt"
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $(head -n1 "$RES/peer-cookies.txt")" "http://127.0.0.1:$PEER_TS_PORT/hello")
  [[ $code == 200 ]] || { echo "peer ts-redis: a session cookie gave $code" >&2; exit 1; }
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PEER_TS_PORT/hello")
  [[ $code == 401 ]] || { echo "peer ts-redis: no cookie gave $code, expected 401" >&2; exit 1; }
fi

# --- measuring ----------------------------------------------------------------
# CPU per process group: the server under test, nginx, Redis, PostgreSQL; and
# what else ran on CPU 0 (the VM is shared: other work, not ours).
ours_pids() {
  local id
  for id in "${!NODE_PID[@]}"; do echo "${NODE_PID[$id]}"; done
  echo "$SQLITE_PID" "$PEER_BARE_PID" "$PEER_TS_PID" "$REDIS_PID" "$PEER_REDIS_PID"
  nginx_pids; pg_pids
}
# CPU 0's time in processes, in interrupts (mostly softirq: loopback TCP for
# packets our servers send, not charged to any process) and stolen by the host.
cpu0() { awk -v c="cpu$SERVER_CPU" '$1 == c {print $2+$3+$4, $7+$8, $9}' /proc/stat; } # -> procs softirq steal
# CPU ticks of the sqlite node's SQLite threads (sqlx runs each connection on
# a thread of its own): the store's share of the server's CPU.
sqlite_ticks() {
  local t stat comm f sum=0
  for t in /proc/"$SQLITE_PID"/task/*; do
    { read -r comm <"$t/comm" && read -r stat <"$t/stat"; } 2>/dev/null || continue
    [[ $comm == sqlx-sqlite* ]] || continue
    read -r -a f <<<"${stat##*) }"
    sum=$((sum + f[11] + f[12]))
  done
  echo "$sum"
}
# TCP connections opened (machine-wide): nginx opening upstream connections shows here.
tcp_opens() { awk '$1 == "Tcp:" && $2 ~ /^[0-9]/ {print $6}' /proc/net/snmp; }
declare -A T0=()
snap_all() { local p; T0=(); for p in $(ours_pids); do T0[$p]=$(pid_ticks "$p"); done; }
group_delta() { # pid... -> ticks since snap_all
  local p t=0 now
  for p in "$@"; do now=$(pid_ticks "$p"); t=$((t + now - ${T0[$p]:-0})); done
  echo "$t"
}
# Set before each run: which PIDs are the server, the proxy, the Redis and
# PostgreSQL of the mode (empty: none), and the Redis port to count commands on.
PROXY_ON="" REDIS_GROUP="" PG_ON="" REDIS_STATS_PORT=""
wrk_hook() {
  if [[ $1 == begin ]]; then
    C0=${REDIS_STATS_PORT:+$(redis_cmds "$REDIS_STATS_PORT")}
    O0=$(tcp_opens); Q0=$(sqlite_ticks); read -r B0 I0 S0 < <(cpu0); H0=$(date +%s.%N); snap_all
  else
    # shellcheck disable=SC2046,SC2086  # lists of PIDs
    {
      D_PROXY=0; [[ -z $PROXY_ON ]] || D_PROXY=$(group_delta $(nginx_pids))
      D_REDIS=0; [[ -z $REDIS_GROUP ]] || D_REDIS=$(group_delta $REDIS_GROUP)
      D_PG=0; [[ -z $PG_ON ]] || D_PG=$(group_delta $(pg_pids))
      D_OURS=$(group_delta $(ours_pids))
    }
    read -r B1 I1 S1 < <(cpu0); H1=$(date +%s.%N); D_SQLITE=$(($(sqlite_ticks) - Q0))
    D_OTHERS=$((B1 - B0 - D_OURS)); D_SOFTIRQ=$((I1 - I0)); D_STEAL=$((S1 - S0)); D_OPENS=$(($(tcp_opens) - O0))
    CMDS=-; [[ -z $REDIS_STATS_PORT ]] || CMDS=$(( $(redis_cmds "$REDIS_STATS_PORT") - C0 ))
  fi
}
us() { awk -v t="$1" -v n="$2" -v hz="$CLK_TCK" 'BEGIN{ if (n>0) printf "%.1f", t/hz/n*1e6; else print "n/a"}'; }
# % of CPU 0 over the hook's window (cpu0 read to cpu0 read), for others and steal.
pct() { awk -v t="$1" -v s="$H0" -v e="$H1" -v hz="$CLK_TCK" 'BEGIN{printf "%.0f%%", t/hz/(e-s)*100}'; }

set_mode() { # mode: the groups counted for it, and the base URL
  PROXY_ON="" REDIS_GROUP="" PG_ON="" REDIS_STATS_PORT=""
  case $1 in
    sqlite) SERVER_PIDS=$SQLITE_PID BASE=http://127.0.0.1:$SQLITE_PORT ;;
    pg) SERVER_PIDS=${NODE_PID[node1]} BASE=$N1 REDIS_GROUP=$REDIS_PID PG_ON=1 REDIS_STATS_PORT=$REDIS_PORT ;;
    pg-noredis) SERVER_PIDS=${NODE_PID[node1]} BASE=$N1 PG_ON=1 ;;
    node2) SERVER_PIDS=${NODE_PID[node2]} BASE=http://127.0.0.1:${NODE_PORT[node2]} REDIS_GROUP=$REDIS_PID PG_ON=1 REDIS_STATS_PORT=$REDIS_PORT ;;
    nginx) SERVER_PIDS="${NODE_PID[*]}" BASE=$PUBLIC PROXY_ON=1 REDIS_GROUP=$REDIS_PID PG_ON=1 REDIS_STATS_PORT=$REDIS_PORT ;;
    peer-bare) SERVER_PIDS=$PEER_BARE_PID BASE=http://127.0.0.1:$PEER_BARE_PORT REDIS_GROUP=$PEER_REDIS_PID REDIS_STATS_PORT=$PEER_REDIS_PORT ;;
    peer-ts) SERVER_PIDS=$PEER_TS_PID BASE=http://127.0.0.1:$PEER_TS_PORT REDIS_GROUP=$PEER_REDIS_PID REDIS_STATS_PORT=$PEER_REDIS_PORT ;;
  esac
}

# One wrk run; appends a table row to ROWS and records the figures under KEY.
declare -A RPS=() TOTAL_US=() SRV_US=() PROXY_US=() REDIS_US=() PG_US=() IRQ_US=() SQLITE_US=()
ROWS=()
measure() { # key mode label path cookiefile [ratio-base-key] [direct-base-key]
  local key=$1 mode=$2 label=$3 path=$4 cookies=$5 rbase=${6:-} dbase=${7:-} rps p50 p99 bad n r total
  set_mode "$mode"
  run_wrk "$key" "$path" "$cookies"
  read -r rps p50 p99 bad n < <(parse_wrk "$RES/$key.txt")
  [[ $mode != nginx ]] || nginx_tally "$key"
  total=$((SRV_TICKS + D_PROXY + D_REDIS + D_PG + D_SOFTIRQ))
  RPS[$key]=$rps TOTAL_US[$key]=$(us "$total" "$n") SRV_US[$key]=$(us "$SRV_TICKS" "$n")
  PROXY_US[$key]=$(us "$D_PROXY" "$n") REDIS_US[$key]=$(us "$D_REDIS" "$n") PG_US[$key]=$(us "$D_PG" "$n")
  IRQ_US[$key]=$(us "$D_SOFTIRQ" "$n")
  local srv=${SRV_US[$key]}
  if [[ $mode == sqlite ]]; then SQLITE_US[$key]=$(us "$D_SQLITE" "$n"); srv="$srv (SQLite ${SQLITE_US[$key]})"; fi
  r=1.000; [[ -z $rbase ]] || r=$(ratio "$rps" "${RPS[$rbase]}")
  [[ -z $dbase ]] || r="$r ($(ratio "$rps" "${RPS[$dbase]}") vs direct)"
  local cmds=-; [[ $CMDS == - ]] || cmds=$(awk -v c="$CMDS" -v n="$n" 'BEGIN{printf "%.2f", c/n}')
  ROWS+=("| $label | $rps | $p50 | $p99 | $r | $SRV_CPU | $srv | ${PROXY_US[$key]} | ${REDIS_US[$key]} | ${PG_US[$key]} | ${IRQ_US[$key]} | **${TOTAL_US[$key]}** | $cmds | $D_OPENS | $(pct "$D_OTHERS") / $(pct "$D_STEAL") | $bad |")
  [[ $bad == 0 ]] || echo "$key: $bad non-2xx responses" >&2
  echo "$key: $rps req/s, ${TOTAL_US[$key]} µs CPU/request (load $(loadavg))" >&2
}
table_head() {
  echo "| mode, route | req/s | p50 | p99 | ratio to bare | server CPU | CPU µs/req: server | nginx | Redis | PG | softirq | total | Redis cmds/req | TCP connects | CPU $SERVER_CPU: others / steal | non-2xx |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
}

# A pass: each session once (bench/once.lua), timed here; CPU per group as above.
once() { # key mode label cookiefile
  local key=$1 done=$RES/$1.done s e t0 t1 wpid rps p50 p99 bad n total
  set_mode "$2"; rm -f "$done"
  wrk_hook begin; t0=$(server_ticks); s=$(date +%s.%N)
  DONE_FILE=$done COOKIE_FILE=$4 BENCH_PATH=/api/session taskset -c "$CLIENT_CPU" \
    wrk -t1 -c"$CONNS" -d300s --latency -s bench/once.lua "$BASE/api/session" >"$RES/$key.txt" 2>&1 &
  wpid=$!
  while [[ ! -e $done ]] && kill -0 "$wpid" 2>/dev/null; do sleep 0.01; done
  t1=$(server_ticks); e=$(date +%s.%N); WALL=$(awk -v s="$s" -v e="$e" 'BEGIN{printf "%.3f", e-s}')
  wrk_hook end
  kill -INT "$wpid" 2>/dev/null || true; wait "$wpid" 2>/dev/null || true
  [[ -e $done ]] || { echo "$key: wrk ended before every session was answered" >&2; cat "$RES/$key.txt" >&2; exit 1; }
  read -r _ p50 p99 bad _ < <(parse_wrk "$RES/$key.txt")
  n=$(grep -c . "$4")
  rps=$(awk -v n="$n" -v w="$WALL" 'BEGIN{printf "%.0f", n/w}')
  total=$((t1 - t0 + D_PROXY + D_REDIS + D_PG + D_SOFTIRQ))
  local cmds; cmds=$(awk -v c="$CMDS" -v n="$n" 'BEGIN{printf "%.2f", c/n}')
  ROWS+=("| $3 | $n | $WALL | $rps | $p50 | $p99 | $(us $((t1 - t0)) "$n") | $(us "$D_REDIS" "$n") | $(us "$D_PG" "$n") | $(us "$D_SOFTIRQ" "$n") | **$(us "$total" "$n")** | $cmds | $(pct "$D_OTHERS") / $(pct "$D_STEAL") | $bad |")
  echo "$key: $rps req/s, $(us "$total" "$n") µs CPU/request" >&2
}
# Every session loaded once on the node nginx pins it to (nodes 2 and 3 have not seen them).
echo "== warm-up through nginx (each session once, on its node)" >&2
once warmup-nginx nginx "warm-up" "$RES/nginx-cookies.txt"
ROWS=()
: >"$ACCESS_LOG"

{
  echo "### bench/cluster.sh: $BUILT, $(date -u +%F' '%H:%M' UTC')"
  echo
  echo "wrk -t1 -c$CONNS -d$DUR, $NSESS sessions per mode (real logins); server side (nodes, nginx with $NGINX_WORKERS workers, Redis, PostgreSQL, peers) on CPU $SERVER_CPU, wrk on CPU $CLIENT_CPU."
  overrides=$(env | grep '^TESSERA_' | grep -v -e '^TESSERA_PASSWORD__' -e '^TESSERA_SERVER__LOG=' -e '^TESSERA_CI_' -e '^TESSERA_TEST_' | sort | tr '\n' ' ' || true)
  echo "Settings from the environment: ${overrides:-none} (plus the cheap Argon2 for the logins and log level warn)."
  echo "Load average at start: $LOAD_START. \`ratio to bare\`: req/s over the same server's bare route in the same round (nginx: /healthz through nginx; in brackets, over node1's /healthz direct)."
  echo "CPU µs/req = CPU seconds of the group during the run / requests answered (sqlite: in brackets, the part on SQLite's threads: reads on a cache miss, the batched \"last seen\" writes); \`softirq\`: CPU $SERVER_CPU's interrupt time (loopback TCP for the packets our servers send); \`total\` = all of them."
  echo "\`TCP connects\`: connections opened on the machine during the run (wrk opens $CONNS; more means nginx opened upstream connections)."
  echo "\`others\`: CPU $SERVER_CPU time in processes not ours (the VM is shared); \`steal\`: taken by the hypervisor. Both as % of the run's wall time."
} | tee "$OUT"

ratio_list() { # session-key-prefix bare-key-prefix
  local r
  for r in $(seq 1 "$ROUNDS"); do ratio "${RPS[$1-$r]}" "${RPS[$2-$r]}"; echo; done
}
for round in $(seq 1 "$ROUNDS"); do
  ROWS=()
  load=$(loadavg)
  measure "sqlite-bare-$round" sqlite "sqlite, bare GET /healthz" /healthz "$RES/sqlite-cookies.txt"
  measure "sqlite-session-$round" sqlite "sqlite, GET /api/session" /api/session "$RES/sqlite-cookies.txt" "sqlite-bare-$round"
  measure "pg-bare-$round" pg "pg+redis, bare GET /healthz" /healthz "$RES/pg-cookies.txt"
  measure "pg-session-$round" pg "pg+redis, GET /api/session" /api/session "$RES/pg-cookies.txt" "pg-bare-$round"
  measure "nginx-bare-$round" nginx "3 nodes + nginx, bare GET /healthz" /healthz "$RES/nginx-cookies.txt" "" "pg-bare-$round"
  measure "nginx-session-$round" nginx "3 nodes + nginx, GET /api/session" /api/session "$RES/nginx-cookies.txt" "nginx-bare-$round" "pg-bare-$round"
  if [[ -z ${SKIP_PEER:-} ]]; then
    measure "peer-bare-$round" peer-bare "peer bare axum GET /hello" /hello "$RES/peer-cookies.txt"
    measure "peer-ts-$round" peer-ts "peer ts-redis GET /hello" /hello "$RES/peer-cookies.txt" "peer-bare-$round"
  fi
  {
    echo
    echo "#### Round $round (load average $load at its start)"
    echo
    table_head
    printf '%s\n' "${ROWS[@]}"
  } | tee -a "$OUT"
done

# One-off variants after the rounds (ratios against the last round's bare runs).
ROWS=()
measure "pg-nonode" pg "pg+redis, GET /api/session, no node cookie (Set-Cookie on every answer)" /api/session "$RES/pg-sessions.txt" "pg-bare-$ROUNDS"
if [[ -z ${SKIP_PEER:-} ]]; then
  measure "peer-ts-one" peer-ts "peer ts-redis GET /hello, 1 session (the 0.27 setup)" /hello "$RES/peer-cookie1.txt" "peer-bare-$ROUNDS"
fi
{
  echo
  echo "#### Variants (after the rounds; ratios to the last round's bare)"
  echo
  table_head
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "nginx routing (access log; requests per node, and requests that went to another node than their cookie named):"
  echo
  for f in "$RES"/nginx-*.tally; do echo "- $(basename "$f" .tally): $(<"$f")"; done
  echo
  echo "nginx error log: $(wc -l <"$WORK/nginx/logs/error.log" 2>/dev/null || echo 0) lines. Cluster errors (tessera_cluster_errors_total) per node: $(
    for id in "${NODES[@]}"; do printf '%s %s; ' "$id" "$(curl -s "http://127.0.0.1:${NODE_PORT[$id]}/metrics" | awk '/^tessera_cluster_errors_total/ {print $2}')"; done)"
} | tee -a "$OUT"

# --- instructions per request (callgrind: blind to the noisy neighbours) ------------
if [[ -z ${SKIP_INSTR:-} ]] && command -v callgrind_control >/dev/null; then
  echo "== instructions per request (bench/instructions.sh): the sqlite node, then node1" >&2
  stop_pid "$SQLITE_PID"; SQLITE_PID=""
  INSTR_SQLITE=$(DATA=$WORK/sqlite COOKIES=$RES/sqlite-cookies.txt PORT=$SQLITE_PORT OUT_PREFIX=$RES/callgrind-sqlite \
    bench/instructions.sh)
  stop_pid "${NODE_PID[node1]}"
  c0=$(redis_cmds "$REDIS_PORT")
  INSTR_PG=$(IDLE_SECONDS=5 DATA=$WORK/node1 COOKIES=$RES/pg-cookies.txt PORT=${NODE_PORT[node1]} OUT_PREFIX=$RES/callgrind-node1 \
    SERVE_ARGS="--database $DB_URL --redis $REDIS_URL --node-id node1 --public-url $PUBLIC" bench/instructions.sh)
  c1=$(redis_cmds "$REDIS_PORT")
  {
    echo
    echo "#### Instructions per request (bench/instructions.sh, callgrind, ${N:-2000} requests of each kind, sessions cached)"
    echo
    echo "sqlite node:"
    echo
    echo "$INSTR_SQLITE"
    echo
    echo "pg+redis node1 (cookies name node1; Redis commands while it ran under valgrind, all three nodes' heartbeats included: $((c1 - c0))):"
    echo
    echo "$INSTR_PG"
  } | tee -a "$OUT"
fi

# --- cold cache ------------------------------------------------------------------
if [[ -z ${SKIP_COLD:-} ]]; then
  echo "== cold cache: restarting node2, then node1 (a new shared-tier epoch: the tier is empty)" >&2
  ROWS=()
  stop_pid "${NODE_PID[node2]}"; stop_pid "${NODE_PID[node1]}"
  start_node node2
  start_node node1
  awk '{print $0 "; __Host-ts_node=node2"}' "$RES/pg-sessions.txt" >"$RES/node2-cookies.txt"
  once cold-node1 pg "node1 after restart: cache and shared tier empty (Redis GET miss, 2 PG reads, Redis SET NX)" "$RES/pg-cookies.txt"
  once hot-node1 pg "node1 again: every session cached (same method, for comparison)" "$RES/pg-cookies.txt"
  once tier-node2 node2 "node2 after restart: cache empty, shared tier filled by node1 (Redis GET hit)" "$RES/node2-cookies.txt"
  echo "== Redis stopped: node1 cannot trust its cache (the store on every request)" >&2
  stop_pid "$REDIS_PID"; REDIS_PID=""
  sleep 2
  curl -s "$N1/readyz" | grep -q '"cluster":"down"' || echo "warning: node1 does not report the link down" >&2
  ROWS_SAVED=("${ROWS[@]}"); ROWS=()
  measure "degraded-bare" pg-noredis "node1, Redis stopped, bare GET /healthz" /healthz "$RES/pg-cookies.txt"
  measure "degraded-session" pg-noredis "node1, Redis stopped, GET /api/session (2 PG reads per request)" /api/session "$RES/pg-cookies.txt" "degraded-bare"
  DEG=("${ROWS[@]}"); ROWS=("${ROWS_SAVED[@]}")
  {
    echo
    echo "#### Cold cache (each of the $NSESS sessions once; wrk -c$CONNS with bench/once.lua)"
    echo
    echo "| pass | requests | seconds | req/s | p50 | p99 | CPU µs/req: node | Redis | PG | softirq | total | Redis cmds/req | CPU $SERVER_CPU: others / steal | non-2xx |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "#### Cache untrusted (Redis stopped; wrk -d$DUR)"
    echo
    table_head
    printf '%s\n' "${DEG[@]}"
  } | tee -a "$OUT"
fi

# --- summary -----------------------------------------------------------------------
med() { # key-prefix array-name -> median over rounds
  local -n arr=$2; local r
  for r in $(seq 1 "$ROUNDS"); do echo "${arr[$1-$r]}"; done | median
}
sum_row() { # label session-prefix bare-prefix [direct-bare-prefix]
  local rs tb ts
  rs=$(for r in $(seq 1 "$ROUNDS"); do ratio "${RPS[$2-$r]}" "${RPS[$3-$r]}"; echo; done | median)
  tb=$(med "$3" TOTAL_US); ts=$(med "$2" TOTAL_US)
  local extra=""
  if [[ -n ${4:-} ]]; then
    extra=" $(for r in $(seq 1 "$ROUNDS"); do ratio "${RPS[$2-$r]}" "${RPS[$4-$r]}"; echo; done | median) vs direct bare;"
    extra+=" the proxy hop (bare via nginx − bare direct): $(awk -v a="$tb" -v b="$(med "$4" TOTAL_US)" 'BEGIN{printf "%+.1f", a-b}') µs"
  fi
  local srv; srv=$(med "$2" SRV_US)
  [[ $2 != sqlite-* ]] || srv="$srv (SQLite threads $(med "$2" SQLITE_US); bare $(med "$3" SQLITE_US))"
  echo "| $1 | $rs | $(awk -v a="$tb" -v b="$ts" 'BEGIN{printf "%.3f", a/b}') |$extra | $tb | $ts | $(awk -v a="$ts" -v b="$tb" 'BEGIN{printf "%+.1f", a-b}') | $srv | $(med "$2" PROXY_US) | $(med "$2" REDIS_US) | $(med "$2" PG_US) | $(med "$2" IRQ_US) |"
}
PG_RATIO=$(ratio_list pg-session pg-bare | median)
{
  echo
  echo "#### Summary (medians of $ROUNDS rounds)"
  echo
  echo "| mode | session / bare, req/s | bare / session, CPU µs per request | through nginx | bare: CPU µs/req (total) | session: CPU µs/req (total) | session overhead µs/req | session: server µs | nginx µs | Redis µs | PG µs | softirq µs |"
  echo "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  sum_row "sqlite (one node)" sqlite-session sqlite-bare
  sum_row "pg+redis (one node)" pg-session pg-bare
  sum_row "3 nodes + nginx" nginx-session nginx-bare pg-bare
  [[ -n ${SKIP_PEER:-} ]] || sum_row "peer ts-redis" peer-ts peer-bare
  echo
  echo "pg+redis session / its bare: median $PG_RATIO; target ≥ 0.6: $(awk -v r="$PG_RATIO" 'BEGIN{print (r >= 0.6 ? "met" : "NOT met")}')."
  echo "pg+redis session / the sqlite node's bare (same round): median $(ratio_list pg-session sqlite-bare | median)."
  echo "Session rows updated in PostgreSQL over the whole run (\"last seen\" touches, at most one per session per touch interval): $(psql -At "$DB_URL" -c "SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'sessions'")."
  echo "Load average at the end: $(loadavg) (start: $LOAD_START)."
} | tee -a "$OUT"
{ echo "top at start:"; echo "$TOP_START"; echo; echo "top at end:"; top -bn1 | head -n 15; } >"$RES/top.txt"
df -h / >>"$RES/top.txt"

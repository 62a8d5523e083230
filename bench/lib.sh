# Shell helpers shared by bench/run.sh and bench/cluster.sh (sourced, not run).
#
# The caller sets: CONNS, DUR, CLIENT_CPU, RES (raw output directory) and
# BASE (http://host:port of the server under test), and names the processes
# whose CPU counts as "the server" in SERVER_PIDS (or SERVER_PID). Run from
# the repository root (bench/rotate.lua is a relative path).
# shellcheck shell=bash

# Exits unless every tool named is on PATH.
need_tools() { # tool...
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install wrk curl python3 util-linux)" >&2; exit 1; }
  done
}

# Cheap Argon2 only so that creating 10,000 sessions by real logins takes
# seconds; hashing is not on the measured path.
bench_env() {
  export TESSERA_PASSWORD__ARGON2_MEMORY_KIB=256 TESSERA_PASSWORD__ARGON2_ITERATIONS=1
  export TESSERA_SERVER__LOG=warn
}

# Waits until URL answers 2xx (10 s); fails if PID (when given) has exited.
wait_http() { # url [pid]
  local _
  for _ in $(seq 100); do
    curl -sf -o /dev/null "$1" && return 0
    [[ -z ${2:-} ]] || kill -0 "$2" 2>/dev/null || { echo "pid $2 exited before $1 answered" >&2; return 1; }
    sleep 0.1
  done
  echo "$1 did not answer within 10 s" >&2; return 1
}

# Logs in N times through BASE (real logins), writes one session Cookie per
# line to OUT and checks that a fresh cookie is accepted and a forged one refused.
make_sessions() { # base email password n out
  local base=$1 code forged
  taskset -c "$CLIENT_CPU" python3 bench/make_sessions.py "$base" "$2" "$3" "$4" "$5"
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $(head -n1 "$5")" "$base/api/session")
  [[ $code == 200 ]] || { echo "a fresh session cookie gave $code" >&2; exit 1; }
  forged="__Host-ts_portal=$(python3 -c 'import base64,os;print(base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("="))')"
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $forged" "$base/api/session")
  [[ $code == 401 ]] || { echo "a forged session cookie gave $code, expected 401" >&2; exit 1; }
}

CLK_TCK=$(getconf CLK_TCK)
# User + system CPU ticks of the processes given, all threads (exited ones count 0).
pid_ticks() { # pid...
  local p t=0 stat f
  for p in "$@"; do
    { read -r stat <"/proc/$p/stat"; } 2>/dev/null || continue
    # The command name may contain spaces: split after it ("state" is f[0], utime f[11], stime f[12]).
    read -r -a f <<<"${stat##*) }"
    t=$((t + f[11] + f[12]))
  done
  echo "$t"
}
server_ticks() { # shellcheck disable=SC2086  # a list of PIDs
  pid_ticks ${SERVER_PIDS:-$SERVER_PID}
}

# Runs wrk with bench/rotate.lua (GET PATH, one Cookie line of COOKIEFILE per
# request, rotating) against $BASE. Sets SRV_CPU (% of a core), SRV_TICKS (CPU
# ticks the server used) and WALL (seconds). If the caller defines
# wrk_hook, it is called with "begin" just before wrk and "end" just after.
# shellcheck disable=SC2034  # SRV_CPU, SRV_TICKS and WALL are for the caller
run_wrk() { # label path cookiefile
  local out="$RES/$1.txt" t0 t1 s e
  if declare -F wrk_hook >/dev/null; then wrk_hook begin; fi
  t0=$(server_ticks); s=$(date +%s.%N)
  COOKIE_FILE=$3 BENCH_PATH=$2 taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"$DUR" --latency -s bench/rotate.lua "${BASE:?}$2" >"$out" 2>&1
  t1=$(server_ticks); e=$(date +%s.%N)
  if declare -F wrk_hook >/dev/null; then wrk_hook end; fi
  SRV_TICKS=$((t1 - t0))
  WALL=$(awk -v s="$s" -v e="$e" 'BEGIN{printf "%.3f", e-s}')
  SRV_CPU=$(awk -v t="$SRV_TICKS" -v w="$WALL" -v hz="$CLK_TCK" 'BEGIN{printf "%.0f%%", t/hz/w*100}')
}

# Server CPU microseconds per request: less sensitive than req/s to a noisy
# neighbour on the VM. Requests = req/s x DUR.
cpu_us() { # ticks rps
  awk -v t="$1" -v r="$2" -v d="${DUR%s}" -v hz="$CLK_TCK" 'BEGIN{ if (r>0) printf "%.2f", t/hz/(r*d)*1e6; else print "n/a"}'
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
parse_wrk() { # wrk output -> "rps p50 p99 non2xx requests"
  awk '/^Requests\/sec:/ {rps=$2} $1=="50%" {p50=$2} $1=="99%" {p99=$2}
       / requests in / {n=$1}
       /Non-2xx or 3xx responses:/ {bad=$NF}
       END {printf "%s %s %s %s %s\n", rps, p50, p99, (bad==""?0:bad), n}' "$1"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b>0) printf "%.3f", a/b; else print "n/a"}'; }

-- wrk script: GET $BENCH_PATH once per Cookie line of $COOKIE_FILE, then stop.
-- For cold-cache passes: the first request of every session. When the last
-- line's response is in, the thread stops and $DONE_FILE is created; the
-- caller then interrupts wrk (whose own clock runs to -d regardless) and
-- times the pass itself. Run with -t1 (the counters are per thread).
local reqs, n, i, answered = {}, 0, 0, 0

function init(args)
  local path = os.getenv("COOKIE_FILE")
  local target = os.getenv("BENCH_PATH") or "/api/session"
  for line in io.lines(path) do
    if #line > 0 then
      n = n + 1
      reqs[n] = wrk.format("GET", target, { ["Cookie"] = line })
    end
  end
  assert(n > 0, "no cookies in " .. path)
end

function request()
  i = i + 1
  -- Past the end only while the last answers are in flight: repeats.
  if i > n then i = 1 end
  return reqs[i]
end

function response(status, headers, body)
  answered = answered + 1
  if answered == n then
    local f = assert(io.open(os.getenv("DONE_FILE"), "w"))
    f:write("done\n")
    f:close()
    wrk.thread:stop()
  end
end

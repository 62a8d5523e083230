-- wrk script: GET $BENCH_PATH, rotating among the Cookie lines of $COOKIE_FILE.
-- Requests are pre-formatted in init() so the per-request Lua cost is an index bump.
local reqs, n, i = {}, 0, 0

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
  if i > n then i = 1 end
  return reqs[i]
end

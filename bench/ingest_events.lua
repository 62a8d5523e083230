-- wrk script: POST /monitor/$SITE/events, rotating among the tickets of
-- $TICKET_FILE (one visit each), $BATCH page views per request, with the
-- embedding $ORIGIN as Origin and in every event's URL. Requests are
-- pre-formatted in init(), so the per-request Lua cost is an index bump.
-- With $RATE (events/s, for this one wrk thread) requests are paced: each
-- one takes the next free slot of a schedule of RATE/BATCH requests/s and
-- waits for it (wrk's delay(), not counted in the latency), so the offered
-- load is the target rate as long as a connection is free, never more; 0 or
-- unset: as fast as the connections go (closed loop).
-- Counts answers by status; done() prints them as "status CODE COUNT" lines
-- and "events_acknowledged N" (202 answers x BATCH).
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } ingest_timespec;
  int clock_gettime(int clock, ingest_timespec *ts);
]]
local ts = ffi.new("ingest_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end
local reqs, n, i = {}, 0, 0
local interval, next_slot = 0, 0
statuses = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local path = assert(os.getenv("TICKET_FILE"), "TICKET_FILE")
  local origin = assert(os.getenv("ORIGIN"), "ORIGIN")
  local site = os.getenv("SITE") or "1001"
  local batch = tonumber(os.getenv("BATCH") or "10")
  local events = {}
  for k = 1, batch do
    events[k] = string.format('{"url":"%s/products/%d?ref=bench","title":"Product %d - Tessera Tea Co.","referrer":"%s/","tab":"bench-tab-1"}',
      origin, k, k, origin)
  end
  local tail = '","events":[' .. table.concat(events, ",") .. ']}'
  local headers = { ["Origin"] = origin, ["Content-Type"] = "text/plain;charset=UTF-8" }
  local target = "/monitor/" .. site .. "/events"
  for line in io.lines(path) do
    if #line > 0 then
      n = n + 1
      reqs[n] = wrk.format("POST", target, headers, '{"ticket":"' .. line .. tail)
    end
  end
  assert(n > 0, "no tickets in " .. path)
end

-- wrk looks for delay() once, after loading the script: define it here or not at all.
local rate = tonumber(os.getenv("RATE") or "0") or 0
if rate > 0 then
  interval = 1000 * tonumber(os.getenv("BATCH") or "10") / rate
  function delay()
    local t = now_ms()
    local slot = math.max(next_slot, t)
    next_slot = slot + interval
    return math.floor(slot - t + 0.5)
  end
end

function request()
  i = i + 1
  if i > n then i = 1 end
  return reqs[i]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for code, count in pairs(t:get("statuses") or {}) do
      total[code] = (total[code] or 0) + count
    end
  end
  local codes = {}
  for code in pairs(total) do table.insert(codes, code) end
  table.sort(codes)
  for _, code in ipairs(codes) do
    io.write(string.format("status %d %d\n", code, total[code]))
  end
  local batch = tonumber(os.getenv("BATCH") or "10")
  io.write(string.format("events_acknowledged %d\n", (total[202] or 0) * batch))
  io.write(string.format("socket_errors connect %d read %d write %d timeout %d\n",
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
end

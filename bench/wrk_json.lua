-- Appended to every wrk run: prints one machine-readable summary line after wrk's own report.
-- Latencies are in microseconds, as wrk records them.
--
-- WRK_RATE=N (requests per second, one wrk thread) paces the run: wrk's delay() hook holds each
-- connection, after its response, until the next free slot of one schedule shared by all
-- connections (slots 1/N apart; a slot no connection was free for is dropped, not made up).
-- The offered rate is then N whatever the target's latency, as long as a connection is free
-- (rate x latency well under the connection count); a target that cannot keep up gets fewer
-- requests, and its achieved rate shows it. wrk starts its latency clock when the request is
-- written, after the delay, so latency is send to response, as without pacing.
local rate = tonumber(os.getenv("WRK_RATE") or "")
if rate and rate > 0 then
  local ffi = require("ffi")
  ffi.cdef [[
    typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
    int clock_gettime(int clk_id, bench_timespec *tp);
  ]]
  local ts = ffi.new("bench_timespec")
  local function now_ms()
    ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
    return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
  end
  local interval = 1000 / rate
  local slot = nil
  delay = function()
    local now = now_ms()
    if slot == nil or slot < now then
      slot = now
    end
    local wait = slot - now
    slot = slot + interval
    return math.floor(wait + 0.5)
  end
end

-- WRK_COHORTS=N sends every request with an X-Cohort header cycling through N values (part 6:
-- canary cohorts), so a canary route sees N distinct cohorts in equal measure.
local cohorts = tonumber(os.getenv("WRK_COHORTS") or "")
if cohorts and cohorts > 0 then
  local n = 0
  request = function()
    n = n + 1
    wrk.headers["X-Cohort"] = "c" .. (n % cohorts)
    return wrk.format()
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d,' ..
    '"lat_mean":%.1f,"lat_min":%d,"lat_max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.min, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9)))
end

-- wrk script for bench/bench_web_load.py: each request is the next line of the file named by
-- TBTWATCH_WRK_PATHS (a shuffled mix of pages), each thread starting at its own place; at the end
-- one JSON line with the counts, the errors and the latency percentiles (microseconds).
local paths = {}
for line in io.lines(os.getenv("TBTWATCH_WRK_PATHS")) do
  paths[#paths + 1] = line
end
local next_path = 0

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
  next_path = math.random(#paths)
end

function request()
  next_path = next_path % #paths + 1
  return wrk.format("GET", paths[next_path])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, "status": %d, ' ..
    '"timeout": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end

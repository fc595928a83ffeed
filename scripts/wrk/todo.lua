-- Mixed traffic for examples/todo: 80% reads of one todo, 10% list reads, 10% creates.
-- Reports p50/p99 latency and the responses that were not 2xx.
local counter = 0
local seeded = tonumber(os.getenv("TODO_SEEDED") or "100")

request = function()
  counter = counter + 1
  local r = counter % 10
  if r == 0 then
    return wrk.format("POST", "/todos", { ["Content-Type"] = "application/json" },
      '{"title":"todo ' .. counter .. '"}')
  elseif r == 5 then
    return wrk.format("GET", "/todos?limit=20")
  else
    return wrk.format("GET", "/todos/" .. (counter * 7919 % seeded + 1))
  end
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_us=%d non2xx=%d errors_connect=%d errors_read=%d errors_write=%d errors_timeout=%d p50_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout, latency:percentile(50), latency:percentile(99), latency.max))
end

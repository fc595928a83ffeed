-- HTTP/1.1 pipelining for wrk, TechEmpower "plaintext" style.
-- Every write carries DEPTH copies of the same GET request (default 16,
-- override with `wrk ... -s pipeline.lua <url> -- 32`). wrk counts the
-- requests in the string, so it expects DEPTH responses per write and
-- reports requests/sec per response.

local depth = 16
local batch

init = function(args)
  if args[1] ~= nil then
    depth = tonumber(args[1]) or depth
  end
  local one = wrk.format() -- wrk.method / wrk.path / wrk.headers (Host is already set)
  local parts = {}
  for i = 1, depth do
    parts[i] = one
  end
  batch = table.concat(parts)
end

request = function()
  return batch
end

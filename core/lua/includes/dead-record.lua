--[[
  deadRecord(reason, raw): a dead-letter list entry, the one shape every script writes:
  { reason, at, raw }, `at` always this Redis server's clock (ms), whoever moved the entry.
]]
local function deadRecord(reason, raw)
  local time = redis.call('TIME')
  local at = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  return cjson.encode({ reason = reason, at = at, raw = raw })
end

--[[
  release-held: the events the runaway breaker held (chain depth past budget.maxChainDepth) go
  back to the session's inbox, oldest first at the draining end, with their chain depth removed:
  a human (their next run, or /gateway drain) released them, so the chain starts again.
  An entry that is not a JSON object goes back unchanged (drain then dead-letters it).

  KEYS[1]  held list (oldest first)
  KEYS[2]  the session's inbox (producers LPUSH; the oldest is at the right)
  Returns: number of entries moved
]]
local held = redis.call('LRANGE', KEYS[1], 0, -1)
-- The removal first: on a full Redis (noeviction) a script whose first write adds is refused.
redis.call('DEL', KEYS[1])
for _, raw in ipairs(held) do
  local ok, event = pcall(cjson.decode, raw)
  if ok and type(event) == 'table' then
    event.chain = nil
    raw = cjson.encode(event)
  end
  redis.call('RPUSH', KEYS[2], raw)
end
return #held

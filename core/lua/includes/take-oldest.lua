--[[
  takeOldest(inflight, firstInbox, maxCount, maxBytes, result): moves up to maxCount of the
  OLDEST entries (at most maxBytes, but always one) from KEYS[firstInbox..] in that order onto
  the end of the in-flight list, appending each to `result` (a table whose first slot is a
  status code, not an entry). Returns `result`. Each inbox is trimmed before the in-flight
  push, so on a full Redis (noeviction) the first write is a removal and Redis lets it run.
]]
local function takeOldest(inflight, firstInbox, maxCount, maxBytes, result)
  local bytes = 0
  for k = firstInbox, #KEYS do
    local room = maxCount - (#result - 1)
    if room <= 0 or (bytes >= maxBytes and #result > 1) then break end
    local slice = redis.call('LRANGE', KEYS[k], -room, -1)
    local first = #result + 1
    for j = #slice, 1, -1 do
      local size = string.len(slice[j])
      if #result > 1 and bytes + size > maxBytes then break end
      bytes = bytes + size
      result[#result + 1] = slice[j]
    end
    local taken = #result - first + 1
    if taken > 0 then
      -- The trim before the push: on a full Redis the first write must be a removal.
      redis.call('LTRIM', KEYS[k], 0, -taken - 1)
      for j = first, #result do redis.call('RPUSH', inflight, result[j]) end
    end
  end
  return result
end

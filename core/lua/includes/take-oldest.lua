--[[
  takeOldest(inflight, firstInbox, maxCount, maxBytes, result): moves up to maxCount of the
  OLDEST entries (at most maxBytes, but always one) from KEYS[firstInbox..] in that order onto
  the end of the in-flight list, appending each to `result` (a table whose first slot is a
  status code, not an entry). Returns `result`.
]]
local function takeOldest(inflight, firstInbox, maxCount, maxBytes, result)
  local bytes = 0
  for k = firstInbox, #KEYS do
    local room = maxCount - (#result - 1)
    if room <= 0 or (bytes >= maxBytes and #result > 1) then break end
    local slice = redis.call('LRANGE', KEYS[k], -room, -1)
    local taken = 0
    for j = #slice, 1, -1 do
      local size = string.len(slice[j])
      if #result > 1 and bytes + size > maxBytes then break end
      bytes = bytes + size
      taken = taken + 1
      result[#result + 1] = slice[j]
      redis.call('RPUSH', inflight, slice[j])
    end
    if taken > 0 then redis.call('LTRIM', KEYS[k], 0, -taken - 1) end
  end
  return result
end

--[[
  drain: take a bounded batch of the OLDEST inbox entries and park the same batch in the
  session's in-flight list, in one step (the design card's LRANGE+LTRIM, made atomic).
  If a batch is already in flight (the consumer crashed or never acknowledged it), that batch
  is returned instead, marked redelivered. An entry in it whose id was acknowledged within the
  ack memory window is not redelivered: it moves to the dead-letter list with that reason, so
  even a wrongly reused id is never dropped silently.

  KEYS[1]  in-flight list (oldest first)
  KEYS[2]  acknowledged-ids sorted set (score = ack time, ms)
  KEYS[3]  dead-letter list
  KEYS[4..] inboxes, drained in this order (producers LPUSH, so the oldest is at the right)
  ARGV[1]  max entries per batch
  ARGV[2]  max bytes per batch (the first entry is always taken, whatever its size)
  ARGV[3]  now, ms
  ARGV[4]  ack memory window, ms
  Returns: { redelivered (0|1), entry, entry, ... } oldest first; { 0 } when there is nothing
]]
local inflight, acked = KEYS[1], KEYS[2]
local maxCount, maxBytes = tonumber(ARGV[1]), tonumber(ARGV[2])
local now, window = tonumber(ARGV[3]), tonumber(ARGV[4])

local parked = redis.call('LRANGE', inflight, 0, -1)
if #parked > 0 then
  redis.call('ZREMRANGEBYSCORE', acked, '-inf', now - window)
  local result = { 1 }
  for _, raw in ipairs(parked) do
    local ok, decoded = pcall(cjson.decode, raw)
    local id = ok and type(decoded) == 'table' and type(decoded.id) == 'string' and decoded.id
    if id and redis.call('ZSCORE', acked, id) then
      redis.call('LREM', inflight, 1, raw)
      redis.call('LPUSH', KEYS[3], cjson.encode({ reason = 'already acknowledged: redelivery suppressed', at = now, raw = raw }))
    else
      result[#result + 1] = raw
    end
  end
  if #result > 1 then return result end
end

local result = { 0 }
local bytes = 0
for k = 4, #KEYS do
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

--[[
  drain: take a bounded batch of the OLDEST inbox entries and park the same batch in the
  session's in-flight list, in one step (the design card's LRANGE+LTRIM, made atomic).
  If a batch is already in flight (the consumer crashed or never acknowledged it), that batch
  is returned instead, marked redelivered. An entry in it whose id was acknowledged within the
  ack memory window is not redelivered: it moves to the dead-letter list with that reason, so
  even a wrongly reused id is never dropped silently.

  Refused for a caller whose owner token does not hold the session's lease, so two consumers
  never drain one inbox or take one in-flight batch.

  Runs on a full Redis (maxmemory + noeviction): Redis refuses a script only when its first
  write can grow memory, so each path writes a removal first (ZREMRANGEBYSCORE, LTRIM) and
  the moves that follow are let through. No script flag (Redis 7's allow-oom) is used: this
  keeps working on Redis 6 and earlier, where a shebang line does not compile.

  KEYS[1]  session lease key
  KEYS[2]  in-flight list (oldest first)
  KEYS[3]  acknowledged-ids sorted set (score = ack time, ms)
  KEYS[4]  dead-letter list
  KEYS[5..] inboxes, drained in this order (producers LPUSH, so the oldest is at the right)
  ARGV[1]  lease owner token ('' = unguarded: a tool that holds no lease)
  ARGV[2]  max entries per batch
  ARGV[3]  max bytes per batch (the first entry is always taken, whatever its size)
  ARGV[4]  now, ms
  ARGV[5]  ack memory window, ms
  Returns: { redelivered (0|1), entry, entry, ... } oldest first; { 0 } when there is nothing;
           { -1 } when the lease is not held by ARGV[1]
]]
--- @include "includes/lease-holder"
--- @include "includes/dead-record"
--- @include "includes/take-oldest"
if ARGV[1] ~= '' and leaseHolder(KEYS[1], ARGV[1]) ~= 'mine' then return { -1 } end
local inflight, acked, dead = KEYS[2], KEYS[3], KEYS[4]
local maxCount, maxBytes = tonumber(ARGV[2]), tonumber(ARGV[3])
local now, window = tonumber(ARGV[4]), tonumber(ARGV[5])

local parked = redis.call('LRANGE', inflight, 0, -1)
if #parked > 0 then
  redis.call('ZREMRANGEBYSCORE', acked, '-inf', now - window)
  local result = { 1 }
  for _, raw in ipairs(parked) do
    local ok, decoded = pcall(cjson.decode, raw)
    local id = ok and type(decoded) == 'table' and type(decoded.id) == 'string' and decoded.id
    if id and redis.call('ZSCORE', acked, id) then
      redis.call('LREM', inflight, 1, raw)
      redis.call('LPUSH', dead, deadRecord('already acknowledged: redelivery suppressed', raw))
    else
      result[#result + 1] = raw
    end
  end
  if #result > 1 then return result end
end

return takeOldest(inflight, 5, maxCount, maxBytes, { 0 })

--[[
  ack: pi has taken a batch; clear its entries from the in-flight list and remember their ids
  for the ack memory window, only so that drain never redelivers an acknowledged entry.
  Refused for a caller whose owner token does not hold the session's lease.

  KEYS[1]  session lease key
  KEYS[2]  in-flight list
  KEYS[3]  acknowledged-ids sorted set (score = ack time, ms)
  ARGV[1]  lease owner token ('' = unguarded: a tool that holds no lease)
  ARGV[2]  now, ms
  ARGV[3]  ack memory window, ms (the set expires after it)
  ARGV[4..] pairs: event id, raw entry exactly as drained
  Returns: number of in-flight entries removed; -1 when the lease is not held by ARGV[1]
]]
--- @include "includes/lease-holder"
if ARGV[1] ~= '' and leaseHolder(KEYS[1], ARGV[1]) ~= 'mine' then return -1 end
local removed = 0
for i = 4, #ARGV, 2 do
  removed = removed + redis.call('LREM', KEYS[2], 1, ARGV[i + 1])
  redis.call('ZADD', KEYS[3], ARGV[2], ARGV[i])
end
if #ARGV > 3 then redis.call('PEXPIRE', KEYS[3], ARGV[3]) end
return removed

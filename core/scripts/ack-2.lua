--[[
  ack: pi has taken a batch; clear its entries from the in-flight list and remember their ids
  for the ack memory window, only so that drain never redelivers an acknowledged entry.

  KEYS[1]  in-flight list
  KEYS[2]  acknowledged-ids sorted set (score = ack time, ms)
  ARGV[1]  now, ms
  ARGV[2]  ack memory window, ms (the set expires after it)
  ARGV[3..] pairs: event id, raw entry exactly as drained
  Returns: number of in-flight entries removed
]]
local removed = 0
for i = 3, #ARGV, 2 do
  removed = removed + redis.call('LREM', KEYS[1], 1, ARGV[i + 1])
  redis.call('ZADD', KEYS[2], ARGV[1], ARGV[i])
end
if #ARGV > 2 then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
return removed

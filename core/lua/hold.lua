--[[
  hold: the runaway breaker parks events (chain depth past budget.maxChainDepth) in the
  session's held list, moving each out of the in-flight list in the same step: memory does not
  grow, so a full Redis (maxmemory + noeviction) still takes the hold (the removal is the first
  write, and Redis refuses a script only when its first write can grow memory), and a batch
  redelivered later does not hold the same event twice. An entry no longer in flight (acknowledged
  or already held) is left where it is.

  KEYS[1]  in-flight list
  KEYS[2]  held list (oldest first)
  ARGV[1..] raw entries exactly as drained
  Returns: number of entries moved
]]
local moved = 0
for i = 1, #ARGV do
  if redis.call('LREM', KEYS[1], 1, ARGV[i]) > 0 then
    redis.call('RPUSH', KEYS[2], ARGV[i])
    moved = moved + 1
  end
end
return moved

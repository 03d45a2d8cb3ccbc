--[[
  history-add: keeps delivered events in a session's history stream, bounded by count and by
  age; what the bounds drop (oldest first) is counted, so `history` can say how much is gone.
  The age bound is measured on this Redis server's clock, as the stream's entry ids are.

  KEYS[1]  history stream (entry id = time added; fields: id, type, source, ts, raw)
  KEYS[2]  dropped counter (integer)
  ARGV[1]  max entries kept (0 = no count bound)
  ARGV[2]  max age, ms (0 = no age bound; else both keys also expire that long after the last add)
  ARGV[3..] quintuples: event id, type, source, ts (ms), raw entry
  Returns: { entries added, entries dropped by the bounds }
]]
local added = 0
for i = 3, #ARGV, 5 do
  redis.call('XADD', KEYS[1], '*', 'id', ARGV[i], 'type', ARGV[i + 1], 'source', ARGV[i + 2], 'ts', ARGV[i + 3], 'raw', ARGV[i + 4])
  added = added + 1
end
local maxCount, maxAge = tonumber(ARGV[1]), tonumber(ARGV[2])
local dropped = 0
if maxCount > 0 then dropped = dropped + redis.call('XTRIM', KEYS[1], 'MAXLEN', maxCount) end
if maxAge > 0 then
  local time = redis.call('TIME')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  dropped = dropped + redis.call('XTRIM', KEYS[1], 'MINID', now - maxAge)
end
if dropped > 0 then redis.call('INCRBY', KEYS[2], dropped) end
if maxAge > 0 then
  redis.call('PEXPIRE', KEYS[1], maxAge)
  redis.call('PEXPIRE', KEYS[2], maxAge)
end
return { added, dropped }

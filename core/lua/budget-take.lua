--[[
  budget-take: one automated run against the sliding-hour budgets (budget.automatedPerHour,
  budget.perSource), checked and recorded in one step, so every consumer sharing this Redis
  (extensions, the daemon) counts against the same windows. Entries older than the window are
  trimmed first. The run is refused when all sources together are at their limit, or when every
  source of the batch is at its own limit and none may bypass it (urgent events). Otherwise it is
  recorded in the all-sources window and in the window of each source that was under its limit
  (or bypassed it); sources over their limit ride along uncounted.

  KEYS[1]   all automated runs of the last window (sorted set: run id → start ms)
  KEYS[2..] one per source of the batch (same shape)
  ARGV[1]   now (ms)
  ARGV[2]   window (ms)
  ARGV[3]   automatedPerHour (0 = no limit)
  ARGV[4]   perSource (0 = no limit)
  ARGV[5]   run id
  ARGV[6..] one per source key (KEYS[i+1]): 1 when the source's events may bypass perSource
  Returns: {1} taken · {0, 'automatedPerHour' | 'perSource', ms when a run may start again}
]]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local globalLimit = tonumber(ARGV[3])
local sourceLimit = tonumber(ARGV[4])
local id = ARGV[5]

-- The time the window's count drops below `limit`: when its (count - limit + 1)th oldest leaves.
local function freesAt(key, count, limit)
  local entry = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
  return tonumber(entry[2]) + window
end

for _, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
end

if globalLimit > 0 then
  local count = redis.call('ZCARD', KEYS[1])
  if count >= globalLimit then
    return {0, 'automatedPerHour', freesAt(KEYS[1], count, globalLimit)}
  end
end

local charged = {}
if sourceLimit > 0 then
  local earliest
  for i = 2, #KEYS do
    local count = redis.call('ZCARD', KEYS[i])
    if count < sourceLimit or ARGV[4 + i] == '1' then
      charged[#charged + 1] = KEYS[i]
    else
      local at = freesAt(KEYS[i], count, sourceLimit)
      if not earliest or at < earliest then earliest = at end
    end
  end
  if #charged == 0 then
    return {0, 'perSource', earliest}
  end
end

if globalLimit > 0 then charged[#charged + 1] = KEYS[1] end
for _, key in ipairs(charged) do
  redis.call('ZADD', key, now, id)
  redis.call('PEXPIRE', key, window)
end
return {1}

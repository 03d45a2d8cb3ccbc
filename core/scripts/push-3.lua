--[[
  push: fan a batch of events out to their inboxes in one atomic step.
  Every event goes to the central inbox (even when no central session runs); an event with an
  originSession also goes to that session's inbox while the session's lease is alive.
  Per target: LPUSH (newest left) and PUBLISH a wake-up; past the inbox cap the oldest entry
  moves to the dead-letter list with reason "overflow" and is counted.

  KEYS[1]  central inbox list
  KEYS[2]  central dead-letter list
  KEYS[3]  overflow counter hash (field = session id)
  ARGV[1]  central notify channel
  ARGV[2]  central session id
  ARGV[3]  idempotency marker TTL in seconds (0 = no marker)
  ARGV[4]  inbox cap (0 = unbounded)
  ARGV[5]  now, ms (dead-letter timestamp)
  ARGV[6..] 7 per event: marker key, event JSON, origin session id ('' = none),
            origin lease key, origin inbox, origin notify channel, origin dead-letter list
  Returns: one integer per event: inboxes reached; 0 = duplicate (its marker already existed)
]]
local markerTtl = tonumber(ARGV[3])
local cap = tonumber(ARGV[4])
local now = tonumber(ARGV[5])

local function deliver(inbox, channel, dead, sid, json)
  local length = redis.call('LPUSH', inbox, json)
  while cap > 0 and length > cap do
    local oldest = redis.call('RPOP', inbox)
    redis.call('LPUSH', dead, cjson.encode({reason = 'overflow', at = now, raw = oldest}))
    redis.call('HINCRBY', KEYS[3], sid, 1)
    length = length - 1
  end
  redis.call('PUBLISH', channel, 'event')
end

local results = {}
for i = 6, #ARGV, 7 do
  local marker, json, origin = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local fresh = markerTtl == 0 or redis.call('SET', marker, '1', 'NX', 'EX', markerTtl)
  local reached = 0
  if fresh then
    deliver(KEYS[1], ARGV[1], KEYS[2], ARGV[2], json)
    reached = 1
    if origin ~= '' and origin ~= ARGV[2] and redis.call('EXISTS', ARGV[i + 3]) == 1 then
      deliver(ARGV[i + 4], ARGV[i + 5], ARGV[i + 6], origin, json)
      reached = 2
    end
  end
  results[#results + 1] = reached
end
return results

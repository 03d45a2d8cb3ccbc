--[[
  push: fan a batch of events out to their inboxes in one atomic step.
  Every event goes to the central inbox (even when no central session runs); an event with an
  originSession also goes to that session's inbox while the session's lease is alive.
  Per inbox, the batch's entries go in with one LPUSH (newest left, in batch order) and one
  PUBLISH wakes its session; past the inbox cap the oldest entries move to the dead-letter list
  with reason "overflow" and are counted.
  Idempotency: pushed ids are remembered in one hash per dedupe window (the current and the
  previous window are checked), so an id is remembered for at least one window and at most two,
  at the cost of one hash field instead of one key with a TTL per event. An id repeated inside
  the batch is a duplicate too. A lone event costs one HEXISTS and one HSETNX; a batch costs two
  HMGETs and one HSET whatever its size.

  Every key is declared (a cluster needs that): the caller lists the central inbox and, for
  each distinct origin session of the batch, its lease, inbox and dead-letter list.
  Under maxmemory + noeviction a full Redis refuses this script: its first write adds (HSETNX,
  HSET or LPUSH), and Redis refuses a script whose first write can grow memory.

  KEYS[1]  overflow counter hash (field = session id)
  KEYS[2]  pushed ids of the current window (hash)
  KEYS[3]  pushed ids of the previous window (hash)
  KEYS[4]  central inbox
  KEYS[5]  central dead-letter list
  KEYS[6..] 3 per origin session n = 1, 2, ...: its lease, inbox, dead-letter list
  ARGV[1]  central session id
  ARGV[2]  inbox cap (0 = unbounded)
  ARGV[3]  when KEYS[2] expires, unix ms (0 = no idempotency check)
  ARGV[4]  central notify channel
  ARGV[5]  number of origin sessions m
  ARGV[6..5+2m] 2 per origin session n: its id, its notify channel
  ARGV[6+2m..] 3 per event: event id, event JSON, origin session number n (0 = none)
  Returns: one integer per event: inboxes reached; 0 = duplicate (its id was already pushed)
]]
--- @include "includes/dead-record"
local central, cap, expireAt = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local origins = tonumber(ARGV[5])
local FIRST = 6 + 2 * origins
local count = (#ARGV - FIRST + 1) / 3

-- Target 0 is the central inbox; target n the n-th origin session's.
local function target(n)
  if n == 0 then return { sid = central, inbox = KEYS[4], dead = KEYS[5], notify = ARGV[4] } end
  local k = 6 + 3 * (n - 1)
  return { sid = ARGV[6 + 2 * (n - 1)], lease = KEYS[k], inbox = KEYS[k + 1], dead = KEYS[k + 2], notify = ARGV[7 + 2 * (n - 1)] }
end

-- Lua's unpack() is bounded by the C stack: one call takes at most this many values.
local CHUNK = 1000
local function callChunked(command, key, values)
  if #values <= CHUNK then return redis.call(command, key, unpack(values)) end
  local replies = {}
  for first = 1, #values, CHUNK do
    local reply = redis.call(command, key, unpack(values, first, math.min(first + CHUNK - 1, #values)))
    if type(reply) == 'table' then
      for k = 1, #reply do replies[#replies + 1] = reply[k] end
    else
      replies[#replies + 1] = reply
    end
  end
  return replies
end

-- fresh[k]: event k is new (not pushed before, not repeated earlier in this batch).
local fresh = {}
if expireAt == 0 then
  for k = 1, count do fresh[k] = true end
elseif count == 1 then
  local id = ARGV[FIRST]
  fresh[1] = redis.call('HEXISTS', KEYS[3], id) == 0 and redis.call('HSETNX', KEYS[2], id, '1') == 1
else
  local ids = {}
  for k = 1, count do ids[k] = ARGV[FIRST + 3 * (k - 1)] end
  local previous, current = callChunked('HMGET', KEYS[3], ids), callChunked('HMGET', KEYS[2], ids)
  local taken, remember = {}, {}
  for k = 1, count do
    local id = ids[k]
    if not previous[k] and not current[k] and not taken[id] then
      taken[id] = true
      fresh[k] = true
      remember[#remember + 1] = id
      remember[#remember + 1] = '1'
    end
  end
  if #remember > 0 then callChunked('HSET', KEYS[2], remember) end
end
if expireAt > 0 then redis.call('PEXPIREAT', KEYS[2], expireAt) end

local targets, order = { [0] = target(0) }, { 0 }
targets[0].entries = {}
local alive = {}
local results = {}
for k = 1, count do
  local reached = 0
  if fresh[k] then
    local i = FIRST + 3 * (k - 1)
    local json, origin = ARGV[i + 1], tonumber(ARGV[i + 2])
    local centralEntries = targets[0].entries
    centralEntries[#centralEntries + 1] = json
    reached = 1
    if origin > 0 then
      if alive[origin] == nil then
        local t = target(origin)
        alive[origin] = redis.call('EXISTS', t.lease) == 1
        if alive[origin] then
          t.entries = {}
          targets[origin] = t
          order[#order + 1] = origin
        end
      end
      if alive[origin] then
        local entries = targets[origin].entries
        entries[#entries + 1] = json
        reached = 2
      end
    end
  end
  results[k] = reached
end

for _, n in ipairs(order) do
  local t = targets[n]
  if #t.entries > 0 then
    local length = callChunked('LPUSH', t.inbox, t.entries)
    if type(length) == 'table' then length = length[#length] end
    if cap > 0 and length > cap then
      for _ = 1, length - cap do
        local oldest = redis.call('RPOP', t.inbox)
        redis.call('LPUSH', t.dead, deadRecord('overflow', oldest))
      end
      redis.call('HINCRBY', KEYS[1], t.sid, length - cap)
    end
    redis.call('PUBLISH', t.notify, 'event')
  end
end
return results

--[[
  lease: register or refresh a session's lease. A lease held by another owner is left alone
  (two processes never share one session id, so never one inbox) unless the caller names it
  exactly as it read it (ARGV[5]): a takeover of a holder known to be dead happens only if the
  lease is still that one. A lease with no TTL (written by hand) is given ARGV[4] when first
  seen, so it cannot block the session for ever. An explicit claim finding a default-role
  holder files a handover request (KEYS[3]) and publishes "handover" on ARGV[7]; the holder's
  next refresh returns 'handover' until it releases.
  Takes and refreshes leases on a full Redis (maxmemory + noeviction), so a consumer can go on
  draining it: Redis refuses a script only when its first write can grow memory, so the first
  write of those paths cannot (PEXPIRE, DEL). A handover request is refused then.

  KEYS[1]  lease key (string, JSON, with TTL)
  KEYS[2]  registered sessions set
  KEYS[3]  handover request key (owner token of the explicit claimant, with TTL)
  ARGV[1]  session id
  ARGV[2]  owner token (unique per process)
  ARGV[3]  lease JSON (holds the owner token as "owner", the claim as "claim")
  ARGV[4]  TTL, ms
  ARGV[5]  the other holder's lease value to replace ('' = none)
  ARGV[6]  this claim: 'explicit' | 'default'
  ARGV[7]  channel the holder listens on, for the handover request
  Returns: false when taken or refreshed; 'handover' when refreshed and a handover is asked;
           the current holder's lease value when held by another
]]
--- @include "includes/lease-holder"
local holder, current = leaseHolder(KEYS[1], ARGV[2])
if holder == 'other' and not (ARGV[5] ~= '' and current == ARGV[5]) then
  if redis.call('PTTL', KEYS[1]) == -1 then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
  if ARGV[6] == 'explicit' then
    local ok, decoded = pcall(cjson.decode, current)
    if ok and type(decoded) == 'table' and decoded.claim == 'default' then
      redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[4])
      redis.call('PUBLISH', ARGV[7], 'handover')
    end
  end
  return current
end
local asker = false
if holder == 'mine' then
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  asker = redis.call('GET', KEYS[3])
else
  redis.call('DEL', KEYS[3])
end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
redis.call('SADD', KEYS[2], ARGV[1])
if asker and asker ~= ARGV[2] then return 'handover' end
return false

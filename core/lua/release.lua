--[[
  release: drop a session's lease and registration, only if this owner holds it. The inbox is
  never touched: events keep waiting for the session's next start.

  KEYS[1]  lease key
  KEYS[2]  registered sessions set
  ARGV[1]  session id
  ARGV[2]  owner token
  Returns: 1 released, 0 not held by this owner
]]
--- @include "includes/lease-holder"
local holder = leaseHolder(KEYS[1], ARGV[2])
if holder == 'free' then
  redis.call('SREM', KEYS[2], ARGV[1])
  return 0
end
if holder ~= 'mine' then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return 1

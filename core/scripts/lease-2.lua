--[[
  lease: register or refresh a session's lease. A lease held by another owner is left alone
  (two processes never share one session id, so never one inbox).

  KEYS[1]  lease key (string, JSON, with TTL)
  KEYS[2]  registered sessions set
  ARGV[1]  session id
  ARGV[2]  owner token (unique per process)
  ARGV[3]  lease JSON (holds the owner token as "owner")
  ARGV[4]  TTL, ms
  Returns: false when taken or refreshed; the current holder's lease JSON when held by another
]]
local current = redis.call('GET', KEYS[1])
if current then
  local ok, decoded = pcall(cjson.decode, current)
  if ok and type(decoded) == 'table' and decoded.owner ~= ARGV[2] then return current end
end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
redis.call('SADD', KEYS[2], ARGV[1])
return false

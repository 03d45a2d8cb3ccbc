--[[
  release: drop a session's lease and registration, only if this owner holds it. The inbox is
  never touched: events keep waiting for the session's next start.

  KEYS[1]  lease key
  KEYS[2]  registered sessions set
  ARGV[1]  session id
  ARGV[2]  owner token
  Returns: 1 released, 0 not held by this owner
]]
local current = redis.call('GET', KEYS[1])
if not current then
  redis.call('SREM', KEYS[2], ARGV[1])
  return 0
end
local ok, decoded = pcall(cjson.decode, current)
if ok and type(decoded) == 'table' and decoded.owner == ARGV[2] then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], ARGV[1])
  return 1
end
return 0

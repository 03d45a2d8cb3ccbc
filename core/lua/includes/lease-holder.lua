--[[
  leaseHolder(key, owner): who holds the lease at `key` as seen by the owner token `owner`.
  Returns 'mine', 'free' (no lease) or 'other' — a lease that is not JSON or has no owner
  field is another's (never ours, never a crash), and the current value as second result.
]]
local function leaseHolder(key, owner)
  local current = redis.call('GET', key)
  if not current then return 'free', nil end
  local ok, decoded = pcall(cjson.decode, current)
  if ok and type(decoded) == 'table' and decoded.owner == owner then return 'mine', current end
  return 'other', current
end

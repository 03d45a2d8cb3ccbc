--[[
  drain-more: a storm's next chunk. Like drain's second half, but taken while a batch is
  already in flight: the next OLDEST inbox entries are appended to the in-flight list, so the
  whole storm is acknowledged (or redelivered after a crash) together.

  Refused for a caller whose owner token does not hold the session's lease.

  KEYS[1]  session lease key
  KEYS[2]  in-flight list (oldest first)
  KEYS[3..] inboxes, drained in this order (producers LPUSH, so the oldest is at the right)
  ARGV[1]  lease owner token ('' = unguarded: a tool that holds no lease)
  ARGV[2]  max entries in this chunk
  ARGV[3]  max bytes in this chunk (the first entry is always taken, whatever its size)
  Returns: { 0, entry, entry, ... } oldest first; { 0 } when the inboxes are empty;
           { -1 } when the lease is not held by ARGV[1]
]]
--- @include "includes/lease-holder"
--- @include "includes/take-oldest"
if ARGV[1] ~= '' and leaseHolder(KEYS[1], ARGV[1]) ~= 'mine' then return { -1 } end
return takeOldest(KEYS[2], 3, tonumber(ARGV[2]), tonumber(ARGV[3]), { 0 })

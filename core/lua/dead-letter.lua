--[[
  dead-letter: move entries that failed validation from the in-flight list to the session's
  dead-letter list, each kept raw with its reason and time. Atomic, so an entry is always in
  exactly one of the two lists.

  KEYS[1]  in-flight list
  KEYS[2]  dead-letter list (newest left)
  ARGV[1..] pairs: raw entry exactly as drained, reason
  Returns: number of entries moved
]]
--- @include "includes/dead-record"
local moved = 0
for i = 1, #ARGV, 2 do
  if redis.call('LREM', KEYS[1], 1, ARGV[i]) > 0 then
    redis.call('LPUSH', KEYS[2], deadRecord(ARGV[i + 1], ARGV[i]))
    moved = moved + 1
  end
end
return moved

--[[
  requeue: move dead-letter entries back to their session's inbox in one step, so an entry is
  always in exactly one of the two lists, and one requeued by two operators at once moves once.
  Entries are put back as the newest (LPUSH), in the order given: pass the oldest first.

  KEYS[1]  dead-letter list
  KEYS[2]  inbox list
  ARGV[1]  inbox notify channel (one wake-up when anything moved)
  ARGV[2..] pairs: dead-letter entry exactly as stored, raw event to put back
  Returns: number of entries moved
]]
local moved = 0
for i = 2, #ARGV, 2 do
  if redis.call('LREM', KEYS[1], 1, ARGV[i]) > 0 then
    redis.call('LPUSH', KEYS[2], ARGV[i + 1])
    moved = moved + 1
  end
end
if moved > 0 then redis.call('PUBLISH', ARGV[1], 'requeue') end
return moved

-- acquireSlots: take a user slot and a project slot together, or neither. A slot is a lease: the member
-- is the holder (job id), its score the lease expiry in ms. Expired leases are dropped first, so a dead
-- holder's slot is free once its lease has run out. Time comes from the caller's clock, never TIME, so
-- tests control it.
--
-- KEYS[1]  the user's slots (keys.userSlots(userId))
-- KEYS[2]  the project's slots (keys.projectSlots(projectId))
-- ARGV[1]  holder
-- ARGV[2]  user limit
-- ARGV[3]  project limit
-- ARGV[4]  now (ms); leases expiring at or before it are dead
-- ARGV[5]  the new lease expiry (ms)
--
-- Returns   1  acquired (a holder that already holds both just has its lease renewed)
--           0  refused: the user's slots are full
--          -1  refused: the project's slots are full
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[4])
local function others(key)
  local n = redis.call('ZCARD', key)
  if redis.call('ZSCORE', key, ARGV[1]) then
    n = n - 1
  end
  return n
end
if others(KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
if others(KEYS[2]) >= tonumber(ARGV[3]) then
  return -1
end
redis.call('ZADD', KEYS[1], ARGV[5], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
return 1

-- admitJob: the daily job quota. Check and increment in one step, so N concurrent submits with k jobs
-- left admit exactly k.
--
-- KEYS[1]  the user's counter for the UTC date (keys.dailyJobs(userId, date))
-- ARGV[1]  daily limit (integer ≥ 0)
-- ARGV[2]  expiry: the next UTC midnight in ms. Set only when the key has none (PEXPIREAT … NX), so a
--          later increment never pushes it back.
--
-- Returns  {1, used}  admitted; used counts this job
--          {0, used}  refused: the limit is reached; nothing changed
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= tonumber(ARGV[1]) then
  return {0, used}
end
used = redis.call('INCR', KEYS[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[2], 'NX')
return {1, used}

-- restoreCounter: raises a dated counter (jobs admitted, tokens used) to the count PostgreSQL recorded,
-- never lowers it (admissions made since the rebuild read stay counted), and gives it its expiry if it
-- has none (set once, like admitJob.lua and addTokens.lua).
--
-- KEYS[1]  the counter (keys.dailyJobs(userId, date) or keys.dailyTokens(userId, date))
-- ARGV[1]  the recorded count
-- ARGV[2]  the expiry (ms since the epoch)
--
-- Returns  the counter after
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local recorded = tonumber(ARGV[1])
if current < recorded then
  redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')
  current = recorded
end
redis.call('PEXPIREAT', KEYS[1], ARGV[2], 'NX')
return current

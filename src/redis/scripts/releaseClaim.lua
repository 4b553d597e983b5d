-- releaseClaim: a worker lets go of a claimed job: the claim and both slots go, and with ARGV[3] = '1'
-- the job goes back into the queue under the score it was claimed with (it keeps its place). Only the
-- holder of the token may do it: after a takeover the old holder's release changes nothing.
--
-- KEYS[1]  the claims (keys.claims())
-- KEYS[2]  the claim info hash (keys.claimInfo())
-- KEYS[3]  the user's slots
-- KEYS[4]  the project's slots
-- KEYS[5]  the queue (keys.queue())
-- KEYS[6]  the wait estimator's averages (keys.durations())
-- ARGV[1]  job id
-- ARGV[2]  token
-- ARGV[3]  '1': hand the job back to the queue; '0': just release (the job finished or paused)
-- ARGV[4..7]  a finished job's duration for its tier's average, as recordDuration.lua's ARGV[1..4]
--             (tier, seconds, default seconds, weight), or absent. Folded here so that a finished job
--             costs one round trip less; folded whatever the token, since the job did take that long.
--
-- Returns  1  released (and queued again when asked)
--          0  not this token's claim: nothing changed (but the duration)
if ARGV[4] then
  local old = tonumber(redis.call('HGET', KEYS[6], ARGV[4]) or ARGV[6])
  local weight = tonumber(ARGV[7])
  redis.call('HSET', KEYS[6], ARGV[4], string.format('%.17g', weight * tonumber(ARGV[5]) + (1 - weight) * old))
end
local info = redis.call('HGET', KEYS[2], ARGV[1])
if not info then
  return 0
end
local claim = cjson.decode(info)
if claim['token'] ~= ARGV[2] then
  return 0
end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
if ARGV[3] == '1' then
  redis.call('ZADD', KEYS[5], 'NX', claim['score'], ARGV[1])
end
return 1

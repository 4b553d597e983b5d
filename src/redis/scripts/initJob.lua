-- initJob: create a job's hot hash once.
--
-- KEYS[1]  job hash (keys.job(jobId))
-- ARGV     field, value, field, value … (status, seq, iteration, ownerId, projectId, tier, …)
--
-- Returns  1  created
--          0  the hash already existed; nothing was changed (a retried create never resets seq)
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1

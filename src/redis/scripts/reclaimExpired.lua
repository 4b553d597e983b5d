-- reclaimExpired: takeover. Claims whose lease ran out (their holder died or stalled) go back into the
-- queue under the score they were claimed with, so they keep their place. Checked and moved in one
-- step: a claim renewed meanwhile is not expired and stays. The slots are left alone: they were renewed
-- with the claim, so they have expired with it, and the next claimant (same slot holder, the job id)
-- takes them again.
--
-- KEYS[1]  the claims (keys.claims())
-- KEYS[2]  the claim info hash (keys.claimInfo())
-- KEYS[3]  the queue (keys.queue())
-- ARGV[1]  now (ms); claims expiring at or before it are dead
-- ARGV[2]  at most this many claims per call
--
-- Returns  the ids of the jobs put back into the queue
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, jobId in ipairs(expired) do
  local info = redis.call('HGET', KEYS[2], jobId)
  redis.call('ZREM', KEYS[1], jobId)
  redis.call('HDEL', KEYS[2], jobId)
  if info then
    redis.call('ZADD', KEYS[3], 'NX', cjson.decode(info)['score'], jobId)
  end
end
return expired

-- claimJob: a worker takes one queued job together with its user and project slots, or nothing. The
-- job leaves the queue only when both slots are free, so a job whose slots are taken keeps its place
-- without being taken and put back. The claim is a lease (the claims sorted set, scored by expiry) with
-- a fencing token: only the holder of the token may renew, release or hand back the claim. Slots:
-- expired holders are dropped first, then both slots are taken or neither (the slot holder is the job
-- id, so a job claimed again after a takeover renews its own slots instead of counting twice).
--
-- KEYS[1]  the queue (keys.queue())
-- KEYS[2]  the claims (keys.claims())
-- KEYS[3]  the claim info hash (keys.claimInfo())
-- KEYS[4]  the user's slots (keys.userSlots(userId))
-- KEYS[5]  the project's slots (keys.projectSlots(projectId))
-- KEYS[6]  the job's fail request (keys.failRequest(jobId)), read for the new holder
-- ARGV[1]  job id
-- ARGV[2]  user limit
-- ARGV[3]  project limit
-- ARGV[4]  now (ms); leases expiring at or before it are dead
-- ARGV[5]  the lease expiry (ms)
-- ARGV[6]  the claim as JSON without its score ({holder, token, userId, projectId})
--
-- Returns  {1, score, reason}  claimed; score is the job's queue score (a decimal string), kept for a
--                              hand-back; reason is a pending fail request's reason, or '' for none
--          {0}         the job is no longer queued (another worker took it, or it was cancelled)
--          {-1}        the user's slots are full; nothing changed
--          {-2}        the project's slots are full; nothing changed
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score then
  return {0}
end
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', ARGV[4])
local function others(key)
  local n = redis.call('ZCARD', key)
  if redis.call('ZSCORE', key, ARGV[1]) then
    n = n - 1
  end
  return n
end
if others(KEYS[4]) >= tonumber(ARGV[2]) then
  return {-1}
end
if others(KEYS[5]) >= tonumber(ARGV[3]) then
  return {-2}
end
redis.call('ZADD', KEYS[4], ARGV[5], ARGV[1])
redis.call('ZADD', KEYS[5], ARGV[5], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
local claim = cjson.decode(ARGV[6])
claim['score'] = score
redis.call('HSET', KEYS[3], ARGV[1], cjson.encode(claim))
return {1, score, redis.call('GET', KEYS[6]) or ''}

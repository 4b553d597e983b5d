-- renewClaim: the heartbeat of one claimed job: renews the claim and both slot leases together, only
-- while the caller's token still holds a live claim.
--
-- KEYS[1]  the claims (keys.claims())
-- KEYS[2]  the claim info hash (keys.claimInfo())
-- KEYS[3]  the user's slots
-- KEYS[4]  the project's slots
-- KEYS[5]  the queue (keys.queue())
-- ARGV[1]  job id
-- ARGV[2]  token
-- ARGV[3]  now (ms)
-- ARGV[4]  the new lease expiry (ms)
-- ARGV[5]  the claim as JSON ({holder, token, userId, projectId, score}), or '' for none
--
-- Returns  1  renewed (or, after Redis lost its data, re-asserted)
--          0  lost: the claim or a slot is gone or expired, or another claim (token) holds the job
--             now. Nothing is changed: the slots may be the new holder's (the slot holder is the job id).
local info = redis.call('HGET', KEYS[2], ARGV[1])
local expiry = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not info and not expiry and ARGV[5] ~= '' then
  -- Redis restarted empty while the holder ran the job: it re-asserts its claim and slots, unless the
  -- rebuild queued the job meanwhile or another worker claimed it (then it is lost, as usual).
  if redis.call('ZSCORE', KEYS[5], ARGV[1]) then
    return 0
  end
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[5])
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
  redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1])
  return 1
end
if not info or not expiry or tonumber(expiry) <= tonumber(ARGV[3]) then
  return 0
end
if cjson.decode(info)['token'] ~= ARGV[2] then
  return 0
end
for i = 3, 4 do
  local slot = redis.call('ZSCORE', KEYS[i], ARGV[1])
  if not slot or tonumber(slot) <= tonumber(ARGV[3]) then
    return 0
  end
end
redis.call('ZADD', KEYS[1], 'XX', ARGV[4], ARGV[1])
redis.call('ZADD', KEYS[3], 'XX', ARGV[4], ARGV[1])
redis.call('ZADD', KEYS[4], 'XX', ARGV[4], ARGV[1])
return 1

-- applyTransition: compare-and-set a job's status and seq, then publish the event. One script, so a
-- refused transition changes nothing and publishes nothing, and an accepted one is always published.
--
-- KEYS[1]  job hash (keys.job(jobId))
-- KEYS[2]  the job's event channel (keys.jobEvents(jobId))
-- KEYS[3]  the all-jobs event channel (keys.allJobEvents())
-- ARGV[1]  expected status
-- ARGV[2]  expected seq (decimal integer)
-- ARGV[3]  new status
-- ARGV[4]  new seq (expected seq + 1)
-- ARGV[5]  iteration
-- ARGV[6]  message
-- ARGV[7]  stage label
-- ARGV[8]  timestamp (ms since the epoch)
-- ARGV[9]  the event as JSON, built by the caller (its seq is ARGV[4])
-- ARGV[10] retention in ms after a terminal status ("0": keep the hash)
--
-- Returns  {1}                  applied and published
--          {0}                  no such job
--          {-1, status, seq}    conflict: the job is elsewhere; its current status and seq
local current = redis.call('HMGET', KEYS[1], 'status', 'seq')
if not current[1] then
  return {0}
end
if current[1] ~= ARGV[1] or current[2] ~= ARGV[2] then
  return {-1, current[1], current[2] or ''}
end
redis.call('HSET', KEYS[1],
  'status', ARGV[3], 'seq', ARGV[4], 'iteration', ARGV[5],
  'message', ARGV[6], 'stageLabel', ARGV[7], 'updatedAt', ARGV[8])
if ARGV[10] ~= '0' then
  redis.call('PEXPIRE', KEYS[1], ARGV[10])
end
redis.call('PUBLISH', KEYS[2], ARGV[9])
redis.call('PUBLISH', KEYS[3], ARGV[9])
return {1}

-- applyTransitions: applyTransition.lua for many transitions in one call (a group commit's worth of
-- events, many jobs), in order. Each is a compare-and-set plus publish exactly as in applyTransition.lua;
-- a refused one changes and publishes nothing, and the others go on (a job's later ones then conflict).
--
-- KEYS[2i-1]  the i-th transition's job hash (keys.job(jobId))
-- KEYS[2i]    that job's event channel (keys.jobEvents(jobId))
-- KEYS[#KEYS] the all-jobs event channel (keys.allJobEvents())
-- ARGV[10(i-1)+1 .. 10i]  the i-th transition's ARGV[1..10] of applyTransition.lua
--
-- Returns  one reply per transition, in order, each as applyTransition.lua's:
--          {1} applied and published; {0} no such job; {-1, status, seq} conflict
local all = KEYS[#KEYS]
local replies = {}
for i = 1, (#KEYS - 1) / 2 do
  local job = KEYS[2 * i - 1]
  local a = 10 * (i - 1)
  local current = redis.call('HMGET', job, 'status', 'seq')
  if not current[1] then
    replies[i] = {0}
  elseif current[1] ~= ARGV[a + 1] or current[2] ~= ARGV[a + 2] then
    replies[i] = {-1, current[1], current[2] or ''}
  else
    redis.call('HSET', job,
      'status', ARGV[a + 3], 'seq', ARGV[a + 4], 'iteration', ARGV[a + 5],
      'message', ARGV[a + 6], 'stageLabel', ARGV[a + 7], 'updatedAt', ARGV[a + 8])
    if ARGV[a + 10] ~= '0' then
      redis.call('PEXPIRE', job, ARGV[a + 10])
    end
    redis.call('PUBLISH', KEYS[2 * i], ARGV[a + 9])
    redis.call('PUBLISH', all, ARGV[a + 9])
    replies[i] = {1}
  end
end
return replies

-- enqueueJob: put a job in the priority queue unless the queue is at its cap.
--
-- KEYS[1]  the queue (sorted set, keys.queue())
-- KEYS[2]  the FIFO counter (keys.queueCounter())
-- ARGV[1]  job id
-- ARGV[2]  the band base of the job's boost, (1000 − boost) × 1e12, as a decimal integer
-- ARGV[3]  the cap (integer ≥ 0)
--
-- Returns  {1, position, score}  queued (or already queued: its current place); position is 1-based,
--                                score a decimal string (a Lua number in a reply would be truncated)
--          {0, queued}           refused: the queue holds `queued` ≥ cap jobs
local existing = redis.call('ZSCORE', KEYS[1], ARGV[1])
if existing then
  return {1, redis.call('ZRANK', KEYS[1], ARGV[1]) + 1, existing}
end
local queued = redis.call('ZCARD', KEYS[1])
if queued >= tonumber(ARGV[3]) then
  return {0, queued}
end
local counter = redis.call('INCR', KEYS[2])
-- '%.0f' keeps every digit: tostring() would print 1e+15 and lose the counter. Scores stay below 2^53.
local score = string.format('%.0f', tonumber(ARGV[2]) + counter)
redis.call('ZADD', KEYS[1], score, ARGV[1])
return {1, redis.call('ZRANK', KEYS[1], ARGV[1]) + 1, score}

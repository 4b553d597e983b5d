-- requeueOrphan: puts a job back into the queue only when it is neither queued nor claimed. The caller
-- found it in PostgreSQL in a runnable status, untouched for longer than a lease: a process died
-- between writing it and queueing it, or a claim was lost without a takeover. It joins the end of its
-- band (a new counter), since its old score is not known.
--
-- KEYS[1]  the queue (keys.queue())
-- KEYS[2]  the FIFO counter (keys.queueCounter())
-- KEYS[3]  the claims (keys.claims())
-- ARGV[1]  job id
-- ARGV[2]  the band base of the job's boost, (1000 − boost) × 1e12, as a decimal integer
--
-- Returns  1  queued
--          0  already queued or claimed: nothing changed
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZSCORE', KEYS[3], ARGV[1]) then
  return 0
end
local counter = redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[1], string.format('%.0f', tonumber(ARGV[2]) + counter), ARGV[1])
return 1

-- heartbeatSlots: renew a holder's two leases, only while it still holds both.
--
-- KEYS[1]  the user's slots
-- KEYS[2]  the project's slots
-- ARGV[1]  holder
-- ARGV[2]  now (ms)
-- ARGV[3]  the new lease expiry (ms)
--
-- Returns  1  renewed
--          0  lost: a lease is gone or expired. The holder is then removed from both sets (both or
--             neither), and must stop or hand its job back.
for i = 1, 2 do
  local expiry = redis.call('ZSCORE', KEYS[i], ARGV[1])
  if not expiry or tonumber(expiry) <= tonumber(ARGV[2]) then
    redis.call('ZREM', KEYS[1], ARGV[1])
    redis.call('ZREM', KEYS[2], ARGV[1])
    return 0
  end
end
redis.call('ZADD', KEYS[1], 'XX', ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[2], 'XX', ARGV[3], ARGV[1])
return 1

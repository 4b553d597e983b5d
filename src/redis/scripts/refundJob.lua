-- refundJob: give back one daily admission (the job was admitted but could not be queued).
--
-- KEYS[1]  the user's counter for the UTC date of the admission
--
-- Returns  the count after the refund. A missing or zero counter stays as it is (never negative, and a
--          missing key is not recreated without its expiry).
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used <= 0 then
  return 0
end
return redis.call('DECR', KEYS[1])

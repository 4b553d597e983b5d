-- addTokens: add an LLM call's tokens to the user's counter for the UTC date.
--
-- KEYS[1]  the user's token counter for the date (keys.dailyTokens(userId, date))
-- ARGV[1]  tokens to add (integer ≥ 0)
-- ARGV[2]  expiry in ms, set only when the key has none (PEXPIREAT … NX)
--
-- Returns  the counter after the addition
local used = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[2], 'NX')
return used

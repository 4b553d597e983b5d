-- recordDuration: fold one job duration into its tier's moving average,
-- new = weight × duration + (1 − weight) × old, starting from the tier default.
--
-- KEYS[1]  the averages hash (keys.durations()), field = tier name
-- ARGV[1]  tier
-- ARGV[2]  duration in seconds
-- ARGV[3]  the tier's default seconds (the average before the first job)
-- ARGV[4]  weight (0.3)
--
-- Returns  the new average as a string ('%.17g' round-trips a double exactly; a Lua number in a reply
--          would be truncated to an integer)
local old = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or ARGV[3])
local weight = tonumber(ARGV[4])
local average = weight * tonumber(ARGV[2]) + (1 - weight) * old
local text = string.format('%.17g', average)
redis.call('HSET', KEYS[1], ARGV[1], text)
return text

-- Shared limiter, one GCRA step. KEYS[1] = the destination's state hash;
-- ARGV[1] the field holding the theoretical arrival time (us), ARGV[2] now
-- (us), ARGV[3] the interval (us), ARGV[4] the tolerance (us), ARGV[5] the
-- hash's time to live (ms). Answers {'go'} or {'rate', allowed at (us)}.
local now_us = tonumber(ARGV[2])
local interval, tau = tonumber(ARGV[3]), tonumber(ARGV[4])
local tat = tonumber(redis.call('HGET', KEYS[1], ARGV[1])) or 0
if tat > now_us + tau then return {'rate', tat - tau} end
if tat < now_us then tat = now_us end
redis.call('HSET', KEYS[1], ARGV[1], string.format('%.0f', tat + interval))
local ttl = tonumber(ARGV[5])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
return {'go'}

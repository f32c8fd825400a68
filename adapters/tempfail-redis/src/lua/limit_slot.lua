-- Shared limiter, one slot. KEYS[1] = the destination's slot sorted set;
-- ARGV[1] 'release', 'extend' or 'count', ARGV[2] the slot id, ARGV[3] now
-- (ms), ARGV[4] the new expiry (ms, extend). release and extend answer 1 when
-- the slot was live (now < expiry), else 0 and change nothing; count answers
-- the live slots.
local op, now = ARGV[1], tonumber(ARGV[3])
if op == 'count' then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
  return redis.call('ZCARD', KEYS[1])
end
local x = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[2]))
if not x or not (now < x) then return 0 end
if op == 'release' then
  redis.call('ZREM', KEYS[1], ARGV[2])
else
  redis.call('ZADD', KEYS[1], 'XX', ARGV[4], ARGV[2])
  local ttl = redis.call('PTTL', KEYS[1])
  local need = tonumber(ARGV[4]) - now + 86400000
  if ttl >= 0 and ttl < need then redis.call('PEXPIRE', KEYS[1], string.format('%.0f', need)) end
end
return 1

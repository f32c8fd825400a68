-- Shared limiter, a connection for one destination: a slot under the
-- concurrency limit and, when a connection rate is set, a GCRA step.
-- KEYS[1] = the destination's state hash, KEYS[2] = its slot sorted set
-- (member: slot id, score: lease expiry in ms). ARGV[1] now (ms), ARGV[2]
-- now (us), ARGV[3] the new slot's expiry (ms), ARGV[4] the limit, ARGV[5]
-- the GCRA interval (us, 0: no rate), ARGV[6] its tolerance (us), ARGV[7]
-- the keys' time to live (ms). Nothing changes unless both allow.
-- Answers {'go', slot, in_use}, {'full', in_use, earliest expiry (ms)} or
-- {'rate', allowed at (us)}.
local now_us = tonumber(ARGV[2])
local limit = tonumber(ARGV[4])
local interval, tau = tonumber(ARGV[5]), tonumber(ARGV[6])
-- a slot is live while now < expiry: the expired ones come back here
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
local n = redis.call('ZCARD', KEYS[2])
if n >= limit then
  local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return {'full', n, tonumber(first[2]) or tonumber(ARGV[1])}
end
if interval > 0 then
  local tat = tonumber(redis.call('HGET', KEYS[1], 'conn_tat')) or 0
  if tat > now_us + tau then return {'rate', tat - tau} end
  if tat < now_us then tat = now_us end
  redis.call('HSET', KEYS[1], 'conn_tat', string.format('%.0f', tat + interval))
end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
-- the acquisition time keeps ids unique even if the state hash expired and
-- its counter started again
local slot = string.format('%d', seq) .. '@' .. ARGV[1]
redis.call('ZADD', KEYS[2], ARGV[3], slot)
local ttl = tonumber(ARGV[7])
for _, k in ipairs(KEYS) do
  if redis.call('PTTL', k) < ttl then redis.call('PEXPIRE', k, ARGV[7]) end
end
return {'go', slot, n + 1}

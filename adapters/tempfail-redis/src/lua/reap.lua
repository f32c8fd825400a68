-- reap: ARGV[3] now (hex), ARGV[4] most to reap in this call. Returns the
-- entries whose lease ended at or before now to waiting, in (expiry, token)
-- order. Answers {'ok', reaped, more} (more = 1: call again).
local now, limit = ARGV[3], tonumber(ARGV[4])
local ms, n = upto(LEASES, now, limit)
for j = 1, n do
  local m = ms[j]
  local k = string.sub(m, 33)
  local h = redis.call('HMGET', ekey(k), 't', 'x', 'd', 'p')
  if h[1] then
    to_waiting(k, h[1], h[2], h[3], h[4])
  else
    redis.call('ZREM', LEASES, m) -- an index entry without its entry
  end
end
local more = 0
if n == limit and #ms == limit then more = 1 end
return {'ok', n, more}

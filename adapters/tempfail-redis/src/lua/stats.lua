-- stats: ARGV[3] now (hex). Answers {'ok', counts, due_now, leased,
-- expired_leases, oldest_due} where counts is a flat [priority, entries, ...]
-- and oldest_due the earliest due time (hex) of a claimable entry or ''.
local now = ARGV[3]
local due_now = 0
local oldest = ''
for _, p in ipairs(redis.call('ZRANGE', BANDS, 0, -1)) do
  local b = band(p)
  local ms, n
  if score(now) == string.format('%.0f', CLAMP) then
    ms, n = upto(b, now, 0)
  else
    n = redis.call('ZCOUNT', b, '-inf', score(now))
  end
  due_now = due_now + n
  if n > 0 then
    local first = redis.call('ZRANGE', b, 0, 0)[1]
    local d = string.sub(first, 1, 16)
    if oldest == '' or d < oldest then oldest = d end
  end
end
local expired
if score(now) == string.format('%.0f', CLAMP) then
  local _, n = upto(LEASES, now, 0)
  expired = n
else
  expired = redis.call('ZCOUNT', LEASES, '-inf', score(now))
end
return {'ok', redis.call('HGETALL', COUNTS), due_now, redis.call('ZCARD', LEASES), expired, oldest}

-- stats: ARGV[3] now (hex). Answers {'ok', counts, due_now, leased,
-- expired_leases, oldest_due} where counts is a flat [priority, entries, ...]
-- and oldest_due the earliest due time (hex) of a claimable entry or ''.
local now = ARGV[3]
local clamped = score(now) == string.format('%.0f', CLAMP)
local function count_upto(z)
  if clamped then
    local _, n = upto(z, now, 0)
    return n
  end
  return redis.call('ZCOUNT', z, '-inf', score(now))
end
local due_now = 0
local oldest = ''
for _, p in ipairs(redis.call('ZRANGE', BANDS, 0, -1)) do
  local b = band(p)
  local n = count_upto(b)
  due_now = due_now + n
  if n > 0 then
    local d = sub(redis.call('ZRANGE', b, 0, 0)[1], 1, 16)
    if oldest == '' or d < oldest then oldest = d end
  end
end
return {'ok', redis.call('HGETALL', COUNTS), due_now, redis.call('ZCARD', LEASES),
  count_upto(LEASES), oldest}

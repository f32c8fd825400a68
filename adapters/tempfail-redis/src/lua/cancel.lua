-- cancel: ARGV[3] key, ARGV[4] now (hex). Answers {'ok', item}, {'nf'} or
-- {'busy'}.
local k, now = ARGV[3], ARGV[4]
local ek = ekey(k)
local h = redis.call('HMGET', ek, 't', 'x', 'd', 'p', 's', 'i')
if not h[3] then return {'nf'} end
if h[1] then
  if now < h[2] then return {'busy'} end
  redis.call('ZREM', LEASES, lease_member(h[2], h[1], k))
else
  from_band(k, h[3], h[5], h[4])
end
redis.call('DEL', ek)
count_add(h[4], -1)
return {'ok', h[6]}

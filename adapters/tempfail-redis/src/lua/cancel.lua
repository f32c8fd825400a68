-- cancel: ARGV[3] key, ARGV[4] now (hex). Answers {'ok', item}, {'nf'} or
-- {'busy'}.
local k, now = ARGV[3], ARGV[4]
local r = redis.call('HGET', ENTRIES, k)
if not r then return {'nf'} end
local e = parse(r)
if leased(e) then
  if now < e.x then return {'busy'} end
  redis.call('ZREM', LEASES, lease_member(e, k))
else
  from_band(k, e)
end
local item = redis.call('HGET', ITEMS, k) or ''
redis.call('HDEL', ENTRIES, k)
redis.call('HDEL', ITEMS, k)
count_add(e.p, -1)
return {'ok', item}

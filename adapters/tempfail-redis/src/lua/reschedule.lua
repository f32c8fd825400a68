-- reschedule: ARGV[3] key, ARGV[4] now (hex), ARGV[5] due (hex), ARGV[6]
-- priority. A waiting entry keeps its insertion sequence; one whose lease
-- ended returns to waiting as if inserted now. Answers {'ok'}, {'nf'} or
-- {'busy'}.
local k, now, d, p = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local ek = ekey(k)
local h = redis.call('HMGET', ek, 't', 'x', 'd', 'p', 's')
if not h[3] then return {'nf'} end
if h[1] then
  if now < h[2] then return {'busy'} end
  to_waiting(k, h[1], h[2], d, p)
else
  from_band(k, h[3], h[5], h[4])
  redis.call('HSET', ek, 'd', d, 'p', p)
  to_band(k, d, h[5], p)
end
if h[4] ~= p then
  count_add(h[4], -1)
  count_add(p, 1)
end
return {'ok'}
